"""The scale benchmark keeps working: a small run of ``benchmarks/hub_chain.py`` (its own stores and
replay, every stage in a child process) loads every synthetic model and prints its table. Its Airflow
mode (``--airflow``) is run by ``test_celery_stack.py``, on the stack it checks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.system  # the Airflow database, servers or a whole stack: not in the fast lane

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(900)
def test_a_small_benchmark_run_loads_every_model_and_reports_each_stage():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "hub_chain.py"), "--models", "60", "--store-rounds", "2"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for stage in ("extraction", "transformation", "loading", "whole chain"):
        assert re.search(rf"^{stage}\s+\d+\.\d", out, re.MULTILINE), out
    assert "models loaded: 60 of 60" in out, out
    # Requests per model are counted at the replay: the listing (1 page) and the lookups.
    extraction = re.search(r"^extraction\s+[\d.]+\s+[\d,]+\s+[\d.]+\s+[\d,]+\s+\d+\s+([\d.]+)\s+([\d,]+)", out, re.MULTILINE)
    assert extraction and float(extraction.group(1)) > 0 and int(extraction.group(2).replace(",", "")) > 0, out
    # The synthetic models in the Hub's shape: about a quarter with a card.
    drawn = re.search(r"60 synthetic models written .*: (\d+) with card, (\d+) with tags, (\d+) with model-index", out)
    assert drawn and 5 <= int(drawn.group(1)) <= 30, out
    # The stores' ceilings, measured in the same run on the same records, a round each into empty stores.
    assert out.count("(a warm-up round: not counted)") == 1, out  # the first round into just-started stores
    assert len(re.findall(r"^round \d: graph load [\d.]+s, bare UNWIND MERGE [\d.]+s: \d+%; index load", out, re.MULTILINE)) == 2, out
    assert re.search(r"^graph load: \d+% \(\d+%-\d+%\) of the store's ceiling \(median of 2 rounds", out, re.MULTILINE), out
    assert re.search(r"^index load: \d+% \(\d+%-\d+%\) of the store's ceiling \(median of 2 rounds", out, re.MULTILINE), out
    assert re.search(r"^transformation in its steps \(no process start\): [\d,]+ models per CPU-second$", out, re.MULTILINE), out
    # Issue 21's targets, each met or not with its figure; the serial fraction; the full Hub's time.
    for target in ("transformation, models per CPU-second", "graph load, share of bare", "index load, share of raw helpers.bulk",
                   "peak RSS of a task (a step's own)", "serial fraction"):
        assert re.search(rf"^{re.escape(target)}.*\s(yes|NO)\s", out, re.MULTILINE), out
    # What a mapped task costs: each step that fans out, its partitions and the CPU of one.
    assert re.search(r"^  transformation: property groups\s+1 partitions of\s+60 models,\s+[\d.]+ CPU-s each$", out, re.MULTILINE), out
    assert re.search(r"^  loading: graph nodes\s+1 partitions of\s+60 models", out, re.MULTILINE), out
    assert re.search(r"^\s+32 worker\(s\):\s+[\d.]+ CPU-bound hours$", out, re.MULTILINE), out
