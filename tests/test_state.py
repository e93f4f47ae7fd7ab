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
