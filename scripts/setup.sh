#!/usr/bin/env bash
# Install everything into .venv from PyPI: the pinned runtime lock and the local-stack/test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9" 2>/dev/null \
  || .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
# Compiled to bytecode as pip would: uv does not by default, and without it every process (each
# Airflow task, each test subprocess) compiles what it imports anew, 4 CPU-seconds for Airflow's
# stack alone (more where PYTHONDONTWRITEBYTECODE keeps Python from caching it).
.venv/bin/python -m uv pip install --quiet --compile-bytecode --python .venv/bin/python -r requirements.txt -r requirements-dev.txt
# The project itself, editable, so `import mlentory` works from any tool in the venv (no deps: the locks pin them).
.venv/bin/python -m uv pip install --quiet --python .venv/bin/python --no-deps -e .
# The project's own modules too (stale bytecode is recompiled by Python when a file changes).
.venv/bin/python -m compileall -q -j 0 plugins dags devstack scripts >/dev/null
