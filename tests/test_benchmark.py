"""The scale benchmark keeps working: a small run of ``benchmarks/hub_chain.py --all-targets`` (each
run with its own stores and replay, every stage in a child process) loads every synthetic model, prints
each run's table and then issue 21's targets in one table. Its Airflow mode (``--airflow``) is run by
``test_celery_stack.py``, on the stack it checks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.system  # the Airflow database, servers or a whole stack: not in the fast lane

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(900)
def test_a_small_benchmark_run_loads_every_model_and_reports_each_stage(tmp_path):
    # One command for every target: a run in process at 60 models with the stores' ceilings (2 rounds),
    # none through Airflow here, and the run "at scale" at 80 models.
    results = tmp_path / "targets.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "hub_chain.py"), "--all-targets", "--sizes", "60,12,80", "--runs", "1",
                           "--airflow-runs", "0", "--store-rounds", "2", "--results-json", str(results)], cwd=ROOT,
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
    # The run at scale, then the one table of every target with its figure; a missed one with its why.
    assert "models loaded: 80 of 80" in out, out
    table = out[out.index("issue 21's targets"):]
    for target, figure in (("transformation, models per CPU-second (60 models)", r"[\d,]+"), ("graph load, share of bare UNWIND … MERGE, every run", r"\d+%"),
                           ("index load, share of raw helpers.bulk, every run", r"\d+%"), ("80 models in process complete", "80 of 80"),
                           ("peak RSS of a task at 80 models", r"\d+ MB"), ("serial fraction at 80 models", r"[\d.]+%")):
        assert re.search(rf"^{re.escape(target)}\s+\S.*\s{figure}\s+(yes|NO )", table, re.MULTILINE), table
    assert re.search(r"^12 models through Airflow, seconds\s+≤ 300\s+not measured\s+NO\s+--airflow-runs 0$", table, re.MULTILINE), table
    transformation = re.search(r"^transformation, models per CPU-second.*NO\s+Python over each record: property groups ([\d.]+) ms", table, re.MULTILINE)
    assert transformation and float(transformation.group(1)) > 0, table  # 60 models are far from 5,000 a CPU-second
    figures = json.loads(results.read_text())
    assert [run["models"] for run in figures["in_process"]] == [60] and figures["airflow"] == [] and figures["at_scale"]["loaded"] == 80
    assert len(figures["in_process"][0]["graph_ratios"]) == 2 and 0 < figures["at_scale"]["serial_fraction"] < 1
    assert {row["target"] for row in figures["targets"] if row["met"]} >= {"80 models in process complete"}
