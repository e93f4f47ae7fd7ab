"""The housekeeping DAG removes run folders past their retention, never one a DAG may still use."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import use_data_root
from pipeline import run_dag, xcom

from mlentory.pipeline.housekeeping import remove_old_run_folders
from mlentory.pipeline.run_folder import RunFolder, write_json

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def run_folder(root: Path, source: str, days_ago: float, stages: tuple[str, ...] = ("extraction", "transformation", "loading"),
               touched_days_ago: float | None = None) -> Path:
    """A run folder created ``days_ago``, its ``stages`` finished, last written ``touched_days_ago``."""
    created = NOW - timedelta(days=days_ago)
    folder = root / source / "runs" / f"{created.strftime('%Y%m%dT%H%M%S%fZ')}_{os.urandom(4).hex()}"
    folder.mkdir(parents=True)
    run = RunFolder(folder)
    for stage in stages:
        run.mark_done(stage, {"models": 1})
    (folder / "extraction").mkdir(exist_ok=True)
    write_json(folder / "extraction" / "models.jsonl", [])
    moment = (NOW - timedelta(days=days_ago if touched_days_ago is None else touched_days_ago)).timestamp()
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (moment, moment))
    return folder


def test_old_folders_go_and_those_in_use_or_newest_stay(tmp_path):
    root = tmp_path / "data"
    old_finished = run_folder(root, "hf", 30)
    old_failed = run_folder(root, "hf", 20, stages=("extraction",))  # abandoned: nothing written since
    in_use = run_folder(root, "hf", 20, stages=("extraction",), touched_days_ago=0.1)  # an old run still writing
    newest_loaded = run_folder(root, "hf", 16)  # past retention, but the newest loaded folder
    recent = run_folder(root, "hf", 2, stages=("extraction",))
    openml_old = run_folder(root, "openml", 40)
    openml_new = run_folder(root, "openml", 1)
    write_json(root / "hf" / "state" / "loaded_revisions" / "00.json", {})

    dry = remove_old_run_folders(root, 14, dry_run=True, now=NOW)
    assert sorted(dry["removed"]["hf"]) == sorted([old_finished.name, old_failed.name])
    assert old_finished.exists()

    summary = remove_old_run_folders(root, 14, now=NOW)
    assert sorted(summary["removed"]["hf"]) == sorted([old_finished.name, old_failed.name])
    assert summary["removed"]["openml"] == [openml_old.name]
    assert not old_finished.exists() and not old_failed.exists() and not openml_old.exists()
    assert in_use.exists() and newest_loaded.exists() and recent.exists() and openml_new.exists()
    assert (root / "hf" / "state" / "loaded_revisions" / "00.json").exists()  # the state is no run folder
    assert summary["kept"] == {"hf": 3, "openml": 1}


def test_a_retention_under_a_day_is_refused(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="at least 1"):
        remove_old_run_folders(tmp_path, 0.5, now=NOW)


@pytest.mark.system  # a DAG run: the Airflow database
def test_the_dag_removes_past_the_retention_param(tmp_path):
    root = use_data_root(tmp_path / "data")
    days = (datetime.now(UTC) - NOW).days
    old = run_folder(root, "hf", 30 - days)
    old_too = run_folder(root, "hf", 25 - days)
    newest = run_folder(root, "hf", 20 - days)
    run = run_dag("mlentory_housekeeping", {"retention_days": 10, "dry_run": False})
    assert run.state == "success"
    summary = xcom(run, "remove_old_run_folders")
    assert sorted(summary["removed"]["hf"]) == sorted([old.name, old_too.name])
    assert newest.exists() and not old.exists()
