#!/usr/bin/env bash
# Tests: install what they need, then run the whole suite. The tests start (and stop, by PID) their
# own graph and index servers on free loopback ports, and their own Airflow database.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The UI test drives Debian's Chromium through Playwright (no browser download): install it when missing.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[test] installing Debian's chromium for the UI test ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "[test] chromium is not installed and cannot be (not root, or no apt-get): the UI test will fail" >&2
  fi
fi
exec .venv/bin/python -m pytest -p no:cacheprovider -q "$@"
