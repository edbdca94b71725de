#!/usr/bin/env bash
# Print a Python 3.8-3.10 interpreter (Rasa 3.6 needs one): $PYTHON, python3.10 on PATH, or pyenv's 3.10.x.
set -eu
for candidate in "${PYTHON:-}" python3.10 "$HOME"/.pyenv/versions/3.10.*/bin/python /usr/bin/python3.10 python3; do
  [ -n "$candidate" ] || continue
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c 'import sys; sys.exit(0 if (3, 8) <= sys.version_info[:2] <= (3, 10) else 1)' 2>/dev/null; then
    echo "$path"; exit 0
  fi
done
echo "No Python 3.8-3.10 found: install Python 3.10 (e.g. pyenv install 3.10.13) or set PYTHON=" >&2
exit 1
