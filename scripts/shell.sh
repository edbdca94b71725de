#!/usr/bin/env bash
# Talk to the assistant in a terminal; the action server runs in the background for the custom actions.
set -eu
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD" TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false
mkdir -p var
.venv/bin/python -m rasa_sdk --actions actions --port "${ACTION_PORT:-5055}" >var/actions-shell.log 2>&1 &
actions=$!
trap 'kill $actions 2>/dev/null || true' EXIT
.venv/bin/python -m bot.rasa.cli shell --model models/benzo-family.tar.gz --endpoints endpoints.yml
