"""The data root full or read-only: a clear error, no debris, no half-written run folder taken for a
finished one, and the task's retry completes once space is back. The scenario runs the stage's own
functions in a private mount namespace on a small tmpfs (real ENOSPC and EROFS), which needs root."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

SCENARIO = ROOT / "tests" / "scenarios" / "data_root_faults.py"


def private_tmpfs_available() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not private_tmpfs_available(), reason="needs root (unshare -m and mount) for a private, size-limited tmpfs")
def test_a_full_then_read_only_data_root(hub_replay, tmp_path):
    mount = tmp_path / "mnt"
    mount.mkdir()
    script = 'mount -t tmpfs -o size=256k,mode=0700 tmpfs "$1" && exec "$2" "$3" "$1" "$4"'
    result = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(mount), sys.executable, str(SCENARIO), hub_replay.url],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    full = seen["full"]
    assert full["errno"] == 28 and "the data root is full" in full["error"] and "raw/latest/" in full["error"]
    assert not [f for f in full["files"] if f.endswith(".tmp")], full["files"]  # no half-written file left
    assert not [f for f in full["files"] if f.endswith("SUCCESS.json")]
    assert full["taken_as_finished"] is None and full["waiting"] == []  # no stage takes the unfinished folder

    retry = seen["retry"]
    assert retry["summary"]["models"] == 8 and retry["summary"]["cards"] == 7
    assert retry["taken_as_finished"] == retry["run_folder"]

    read_only = seen["read_only"]
    assert "the data root is read-only" in read_only["create"]
    assert "the data root is read-only" in read_only["state"]
    assert read_only["state_kept"] == {"acme-ai/base-lm": "a" * 40}
    assert read_only["taken_as_finished"] == retry["run_folder"]
    assert not list(mount.iterdir())  # the tmpfs was private to the scenario: nothing is mounted here
