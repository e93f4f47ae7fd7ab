#!/usr/bin/env bash
# Tests: install what they need, then run the whole suite. The tests start (and stop, by PID) their
# own graph and index servers on free loopback ports, and their own Airflow database.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python -m pytest -p no:cacheprovider -q "$@"
