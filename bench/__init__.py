"""The benchmark against stock Rasa (python -m bench, make bench) and the load generator it shares with the tests."""
