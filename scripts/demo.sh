#!/usr/bin/env bash
# Main job: install, start the local stack, run the HuggingFace pipeline on a recorded Hub snapshot,
# print a summary and where the Airflow UI is. Extra arguments go to `localstack.py up`
# (e.g. --models 20 --snapshot fixture).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python scripts/localstack.py up "$@"
