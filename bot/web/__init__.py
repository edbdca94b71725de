"""The web server: the family chat page and widget, the REST proxy to Rasa, and the staff console."""
