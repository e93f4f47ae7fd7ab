"""The state earlier runs leave for later ones: updates that cannot lose a concurrent writer's entries,
and writes that leave no half file and no debris behind."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from mlentory.pipeline.run_folder import RunFolder, read_json, write_json, write_jsonl
from mlentory.pipeline.state import ApiCache, LoadedRevisions


def _record_revisions(run_path: str, worker: int, count: int) -> None:
    revisions = LoadedRevisions(RunFolder(Path(run_path)))
    for i in range(count):
        revisions.update({f"w{worker}/m{i}": "1" * 40})


def _cache_answers(run_path: str, worker: int, count: int) -> None:
    for i in range(count):
        cache = ApiCache(RunFolder(Path(run_path)), "datasets", ttl=None)
        cache.put(f"w{worker}/d{i}", {"found": True})
        cache.save()


@pytest.mark.parametrize("writer", [_record_revisions, _cache_answers])
def test_two_processes_updating_the_state_lose_nothing(tmp_path, writer):
    run = RunFolder.create(tmp_path, "hf")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=writer, args=(str(run.path), w, 100)) for w in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    if writer is _record_revisions:
        assert len(LoadedRevisions(run).load()) == 200
    else:
        assert len(read_json(tmp_path / "hf" / "cache" / "datasets.json")) == 200


def test_a_failed_write_leaves_the_old_file_and_no_debris(tmp_path):
    target = tmp_path / "models.jsonl"
    write_jsonl(target, [{"id": "a"}])

    def failing():
        yield {"id": "b"}
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_jsonl(target, failing())
    with pytest.raises(TypeError):
        write_json(tmp_path / "x.json", {"bad": object()} | {1j: 1})
    assert target.read_text().splitlines() == ['{"id":"a"}']
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models.jsonl"]


def _shard_files(run: RunFolder) -> list[Path]:
    return sorted((run.path.parent.parent / "state" / "loaded_revisions").glob("[0-9][0-9].json"))


def test_the_revisions_of_before_the_shards_are_read_and_split_into_them(tmp_path):
    """A data root written before the shards: its single file is read as it is, then split by the
    first write (its entries beneath the shards', being older), and no entry is lost."""
    run = RunFolder.create(tmp_path, "hf")
    legacy = tmp_path / "hf" / "state" / "loaded_revisions.json"
    write_json(legacy, {f"org/m{i}": f"old{i}" for i in range(300)})
    revisions = LoadedRevisions(run)
    assert len(revisions.load()) == 300 and revisions.among({"org/m7", "org/unknown"}) == {"org/m7"}
    assert revisions.update({"org/m1": "new1", "org/extra": "x"}, forget={"org/m2"}) == 300
    assert not legacy.exists() and len(_shard_files(run)) == 64  # 300 ids fill every one of the 64 shards
    loaded = revisions.load()
    assert (loaded["org/m1"], loaded["org/m3"], loaded["org/extra"]) == ("new1", "old3", "x") and "org/m2" not in loaded
    assert max(len(read_json(path)) for path in _shard_files(run)) < 300 / 2  # no shard holds the catalogue
    revisions.remove({"org/m1"})
    assert revisions.count() == 299 == len(set(revisions.ids()))


def test_the_spilled_revisions_recorded_by_halves_of_the_shards_equal_one_whole_recording(tmp_path):
    """The chunk tasks spill, the history tasks record their shards: two tasks over halves of the
    shards leave exactly what one task over all leaves, a retried chunk counts once, and a model
    loaded incompletely is forgotten."""
    results = []
    for groups in ([None], [list(range(0, 64, 2)), list(range(1, 64, 2))]):
        root = tmp_path / str(len(groups))
        run = RunFolder.create(root, "hf")
        revisions = LoadedRevisions(run)
        revisions.update({"org/gap": "1", "org/kept": "1"})
        revisions.spill("00000", {f"org/m{i}": str(i) for i in range(100)}, forget={"org/gap"})
        revisions.spill("00001", {"org/late": "stale"}, forget=())
        revisions.spill("00001", {f"org/n{i}": str(i) for i in range(50)}, forget=())  # the chunk's retry replaces its spill
        recorded = set().union(*(revisions.record_spilled(shards) for shards in groups))
        assert len(recorded) == 150 and "org/late" not in recorded
        assert not run.file("loading", "revisions").exists()  # recorded and removed
        assert revisions.record_spilled() == set()  # nothing left to record twice
        results.append((revisions.load(), revisions.count()))
    assert results[0] == results[1]
    loaded, count = results[0]
    assert count == 151 and "org/gap" not in loaded and loaded["org/kept"] == "1" and loaded["org/n49"] == "49"
