"""The scale benchmark keeps working: a small run of ``benchmarks/hub_chain.py`` (its own stores and
replay, every stage in a child process) loads every synthetic model and prints its table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(900)
def test_a_small_benchmark_run_loads_every_model_and_reports_each_stage():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "hub_chain.py"), "--models", "60"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for stage in ("extraction", "transformation", "loading", "whole chain"):
        assert re.search(rf"^{stage}\s+\d+\.\d", out, re.MULTILINE), out
    assert "models loaded: 60 of 60" in out, out
    # Requests per model are counted at the replay: the listing (1 page) and the lookups.
    extraction = re.search(r"^extraction\s+[\d.]+\s+[\d,]+\s+[\d.]+\s+[\d,]+\s+\d+\s+([\d.]+)\s+([\d,]+)", out, re.MULTILINE)
    assert extraction and float(extraction.group(1)) > 0 and int(extraction.group(2).replace(",", "")) > 0, out
    # The stores' ceilings, measured in the same run on the same records.
    assert re.search(r"^graph load: [\d.]+s, bare UNWIND MERGE [\d.]+s: \d+% of the store's ceiling$", out, re.MULTILINE), out
    assert re.search(r"^index load: [\d.]+s, raw helpers.bulk [\d.]+s: \d+% of the store's ceiling$", out, re.MULTILINE), out
    assert re.search(r"^transformation in its steps \(no process start\): [\d,]+ models per CPU-second$", out, re.MULTILINE), out


@pytest.mark.timeout(900)
def test_the_benchmark_through_airflow_reports_each_dag_and_component():
    """``--airflow``: the synthetic models through the main job's stack (the scheduler runs the
    three DAGs), then each DAG run's and task's time and each component's CPU."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "hub_chain.py"), "--models", "30", "--from-dump", "--airflow"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for dag_id in ("hf_extraction", "hf_transformation", "hf_loading"):
        assert re.search(rf"^{dag_id}\s+1\s+\d+\.\d", out, re.MULTILINE), out
    assert re.search(r"^  hf_load_models\s+\d+\s+\d+\.\d", out, re.MULTILINE), out
    assert re.search(r"^whole chain \(first start to last end\)\s+\d+\.\d", out, re.MULTILINE), out
    assert re.search(r"^models loaded: 30 of 30; Hub API requests \d+", out, re.MULTILINE), out
    for component in ("scheduler", "dag-processor", "api-server", "triggerer"):
        assert re.search(rf"^  {component}\s+\d+\.\d\s+\d+\.\d", out, re.MULTILINE), out
    assert "stopped scheduler" in out  # the stack it started is stopped
