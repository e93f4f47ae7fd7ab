"""The main job's own output holds no library log line: the snapshot it builds from the recordings
reads cards with huggingface_hub (which warns on a card without front matter), after the job has
pointed every library's log at its log file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import ROOT

REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.mark.skipif(not (REALDATA / "huggingface").is_dir(), reason=f"the recordings are not at {REALDATA} (they live beside the project)")
def test_building_the_snapshot_from_the_recordings_logs_to_the_file_only(tmp_path):
    code = ("import os, sys; sys.path[:0] = [sys.argv[1]]; import localstack;"
            "os.environ.update(AIRFLOW_HOME=str(localstack.LOCAL / 'airflow'), AIRFLOW_CONFIG=str(localstack.ROOT / 'airflow.cfg'));"
            "localstack.keep_library_logs_in_a_file(); localstack.snapshot_dir('realdata')")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    ran = subprocess.run([sys.executable, "-c", code, str(ROOT / "scripts")], env={**env, "MLENTORY_LOCAL_DIR": str(tmp_path)},
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    assert "built a snapshot from" in ran.stdout
    assert "Repo card metadata block was not found" not in ran.stdout + ran.stderr
    assert "Repo card metadata block was not found" in (tmp_path / "logs" / "main-job.log").read_text()  # the recordings have such cards
