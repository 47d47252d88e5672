#!/usr/bin/env bash
# Set up (if needed) and run the test suite on the real sample media in ../shared/media.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check filmaster_dag tests bench
.venv/bin/ruff format --check filmaster_dag tests bench
exec .venv/bin/python -m pytest -q "$@"
