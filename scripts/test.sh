#!/usr/bin/env bash
# Sets up everything (uv, the locked environment, Debian's chromium) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-uv.sh
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "warning: could not install chromium; browser tests will fail"
  fi
fi
uv sync --locked --quiet
uv run ruff check src tests bench
uv run ruff format --check src tests bench
uv run mypy --strict src
uv run pytest -q -p no:cacheprovider "$@"
