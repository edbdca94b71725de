"""Developer tools, not shipped: training, evaluation, the spaCy pipeline build, the dialogue scorer, the staff
console benchmark. Run from the project root: python -m tools.NAME."""
