#!/usr/bin/env bash
# make stop-prod: stop supervisord and every service of the production profile (nginx first, PostgreSQL last).
set -eu
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD"
exec .venv/bin/python -m scripts.prod.stack stop
