#!/usr/bin/env bash
# Stop every process the main job started (by the PIDs it recorded in .local/pids).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python scripts/localstack.py down
