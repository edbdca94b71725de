"""The family-support assistant's own Python package (everything that is not Rasa data)."""
