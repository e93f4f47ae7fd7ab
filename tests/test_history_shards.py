"""The models' history recorded by shard (``history.record_spilled`` over the loading's history tasks):
two tasks over two halves of the shards record what one task over all of them records, each shard
once; a model's state is read back from its shard's files and from a day's single file as loads
wrote it before the shards."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from mlentory.pipeline import history
from mlentory.pipeline.run_folder import RunFolder, read_jsonl


def _records(count: int, likes: int = 1) -> list[dict]:
    return [{"@id": f"https://huggingface.co/org/m{i}", "@type": "MLModel", "identifier": f"org/m{i}", "name": f"org/m{i}",
             "likes": likes if i % 2 else 5} for i in range(count)]


def _history_rows(run: RunFolder) -> list[dict]:
    return sorted((row for path in (run.path.parent.parent / "history").rglob("*.jsonl") for row in read_jsonl(path)),
                  key=lambda row: (row["id"], row["at"]))


def test_two_tasks_over_halves_of_the_shards_record_what_one_task_records(tmp_path):
    at = datetime(2026, 12, 3, 12, tzinfo=UTC)
    runs = {}
    for name, groups in (("one", [list(range(8))]), ("two", [[0, 2, 4, 6], [1, 3, 5, 7]])):
        run = RunFolder.create(tmp_path / name / "data", "hf")
        history.spill_loads(run, _records(300)[:200], "00000")
        history.spill_loads(run, _records(300)[200:], "00001")
        recorded = sum(history.record_spilled(run, at, history.shards_of(group, 8)) for group in groups)
        assert recorded == history.changes_recorded(run) == 300
        assert not (run.path / "loading" / "history").exists()  # every shard's spill recorded and removed
        assert history.record_spilled(run, at) == 0 and history.changes_recorded(run) == 300  # nothing left to record twice
        runs[name] = run
    assert _history_rows(runs["one"]) == _history_rows(runs["two"])
    assert len(_history_rows(runs["two"])) == 300 and all(row["new"] for row in _history_rows(runs["two"]))
    shard_files = sorted(path.name for path in (runs["two"].path.parent.parent / "history" / "2026-12-03").glob("*.jsonl"))
    assert len(shard_files) > 32  # 300 ids spread over the 64 shards, a file each
    # A second load: only the models whose likes changed (the odd ones) have a row, in their shards.
    again = RunFolder.create(tmp_path / "two" / "data", "hf")
    history.spill_loads(again, _records(300, likes=2), "00000")
    assert sum(history.record_spilled(again, at + timedelta(hours=1), history.shards_of(g, 8)) for g in ([0, 1, 2, 3], [4, 5, 6, 7])) == 150


def test_a_state_is_read_back_from_its_shard_and_from_a_day_file_written_before_the_shards(tmp_path):
    run = RunFolder.create(tmp_path / "data", "hf")
    root = run.path.parent.parent
    day = datetime(2026, 12, 1, 9, tzinfo=UTC)
    legacy = root / "history" / "2026-12-01.jsonl"  # one file for the day, all models, as before the shards
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps({"id": "org/m1", "at": day.isoformat(), "changed": {"identifier": "org/m1", "name": "org/m1", "likes": 1}, "new": True}) + "\n")
    history.spill_loads(run, [{"identifier": "org/m1", "name": "org/m1", "likes": 9}], "00000")
    history.record_spilled(run, day + timedelta(hours=2))  # the same day, into the shard's file
    assert history.state_at(root, "org/m1", day + timedelta(hours=1)) == {"identifier": "org/m1", "name": "org/m1", "likes": 1}
    assert history.state_at(root, "org/m1", day + timedelta(hours=3)) == {"identifier": "org/m1", "name": "org/m1", "likes": 9}
    assert history.state_at(root, "org/m1", day - timedelta(days=1)) is None
