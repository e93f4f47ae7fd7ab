#!/usr/bin/env bash
# Tests: install what they need, then run the whole suite (--fast: lint and the fast lane only). The tests start (and stop, by PID) their
# own graph and index servers on free loopback ports, and their own Airflow database. They run in two pytest-xdist workers (the
# machine's two cores; MLENTORY_TEST_WORKERS to change), a test module's tests in one worker (its module fixtures built once), in
# the order tests/conftest.py gives (the two whole-stack modules first and last, never beside each other); each worker has its own
# Airflow home, database and stores.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if [ "${1:-}" = "--fast" ]; then
  # The fast lane, before every commit: lint, the type check, then the tests that need no Airflow database, no
  # stand-in stores and no stack (the "system" marker; the recorded replays run in-process).
  shift
  .venv/bin/ruff check plugins tests dags devstack scripts benchmarks
  .venv/bin/mypy  # strict on fair4ml/ and pipeline/ (pyproject.toml)
  exec .venv/bin/python -m pytest -p no:cacheprovider -q -n "${MLENTORY_TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder -m "not system" "$@"
fi
# Debian's packages the tests start: Chromium (the UI test drives it through Playwright, no browser
# download), redis-server and PostgreSQL (the Celery stack test, the budgets shared through Redis).
# Installed when missing.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/lib/postgresql/15/bin/postgres ] || missing+=(postgresql)  # the Celery stack test's metadata database
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[test] installing Debian's ${missing[*]} ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "[test] ${missing[*]} not installed and cannot be (not root, or no apt-get): the tests that need them will fail" >&2
  fi
fi
exec .venv/bin/python -m pytest -p no:cacheprovider -q -n "${MLENTORY_TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder --durations=20 "$@"
