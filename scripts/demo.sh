#!/usr/bin/env bash
# Set up (if needed), ingest the sample films into the reference library, print it, and produce the example briefs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
exec .venv/bin/filmaster demo "$@"
