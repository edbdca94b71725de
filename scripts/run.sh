#!/usr/bin/env bash
# make run: every service of the one-machine set-up under supervisord, in the foreground: action server :5055,
# Rasa (REST channel, SQLite tracker store) :5005, web server (widget + staff console) :8000, and the retention job
# (deletes conversations older than the configured number of days) at start and once a day. A service that dies
# is restarted (config/supervisor/); `make status` shows each one; Ctrl-C stops them all. See scripts/dev.py.
set -eu
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD" TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 RASA_TELEMETRY_ENABLED=false
exec .venv/bin/python -m scripts.dev run
