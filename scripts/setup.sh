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
.venv/bin/python -m uv pip install --quiet --python .venv/bin/python -r requirements.txt -r requirements-dev.txt
# The project itself, editable, so `import mlentory` works from any tool in the venv (no deps: the locks pin them).
.venv/bin/python -m uv pip install --quiet --python .venv/bin/python --no-deps -e .
