#!/usr/bin/env bash
# Start every service of the one-machine set-up and stop them all on Ctrl-C or when one dies:
# action server :5055, Rasa (REST channel, SQLite tracker store) :5005, web server (widget + staff console) :8000,
# and the retention job (deletes conversations older than the configured number of days) once a day.
set -eu
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD" TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 RASA_TELEMETRY_ENABLED=false
mkdir -p var
pids=()
cleanup() { trap - EXIT INT TERM; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

.venv/bin/python -m rasa_sdk --actions actions --port "${ACTION_PORT:-5055}" & pids+=($!)
.venv/bin/python -m bot.rasa_cli run --model models/benzo-family.tar.gz --port "${RASA_PORT:-5005}" \
  --credentials credentials.yml --endpoints endpoints.yml & pids+=($!)
.venv/bin/python -m bot.web --port "${WEB_PORT:-8000}" & pids+=($!)
if [ -f bot/staff/retention.py ]; then
  ( while true; do .venv/bin/python -m bot.staff.retention || true; sleep 86400; done ) & pids+=($!)
fi
echo "Starting: chat at http://localhost:${WEB_PORT:-8000}/  staff console at http://localhost:${WEB_PORT:-8000}/staff"
wait -n "${pids[@]}"
