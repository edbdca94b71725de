"""Plain domain code shared by Rasa, the actions and the web server: settings, safety net, privacy, content,
provider. No Rasa or Flask imports here (the action server ships with only part of it: actions/files.txt)."""
