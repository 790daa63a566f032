#!/usr/bin/env bash
# Sets up everything (uv and the locked environment) and runs the demo: the built-in X API emulator,
# the ingest worker and the web inbox on SQLite. Extra arguments go to `flockdesk demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-uv.sh
uv sync --locked --quiet
exec uv run flockdesk demo "$@"
