#!/usr/bin/env bash
# Idempotent set-up: a virtualenv in .venv with the project and its pinned dependencies.
# Re-running is a no-op unless pyproject.toml or this script changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] < (3, 14)))' 2>/dev/null; then
  for candidate in python3.11 python3.12 python3.10 python3.13; do
    if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
  done
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.filmaster-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # torch and torchvision come as the registry's matching pair (pinned in pyproject.toml);
  # a CPU-only torch from elsewhere breaks torchvision ("operator torchvision::nms does not exist").
  echo "setting up .venv (first time: a few minutes, torch is large)..."
  .venv/bin/python -m pip install --progress-bar on -e ".[test]"
  echo "$want" > "$stamp"
fi
