#!/usr/bin/env bash
# make run-prod: install PostgreSQL, Redis and nginx (Debian packages) when missing, then start the production
# profile in the background under supervisord: PostgreSQL, Redis, the action server, 2 Rasa servers, the web
# server, the retention job, nginx; each is restarted when it dies (make status shows them).
# Settings: config/prod/prod.env (environment variables of the same name override). Stop with scripts/prod/stop.sh.
set -eu
cd "$(dirname "$0")/../.."
scripts/system-deps.sh postgresql redis-server nginx
export PYTHONPATH="$PWD" TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 RASA_TELEMETRY_ENABLED=false
exec .venv/bin/python -m scripts.prod.stack start
