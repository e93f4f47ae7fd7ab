"""A data root in object storage: moto's S3-API server on loopback (stopped by PID) behind Airflow's
``ObjectStoragePath``; each task works in a workspace of its own and the shared state is updated
under a Redis lock (Debian's redis-server on loopback)."""

from __future__ import annotations

import json
import multiprocessing
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import forget_attached_stores

from devstack import servers
from mlentory.errors import PermanentFailure
from mlentory.pipeline import housekeeping, storage
from mlentory.pipeline.run_folder import RunFolder, read_jsonl, write_json
from mlentory.pipeline.state import ID_SHARDS, LoadedRevisions

pytestmark = pytest.mark.system  # the Airflow database, servers or a whole stack: not in the fast lane


@pytest.fixture(scope="module")
def s3_port(tmp_path_factory):
    port = servers.free_port()
    server = servers.start_s3(tmp_path_factory.mktemp("s3"), port)
    forget_attached_stores()
    yield port
    servers.stop(server.pid)
    forget_attached_stores()


@pytest.fixture
def bucket(s3_port, monkeypatch, tmp_path):
    """A fresh bucket; the data root ``s3://<bucket>/mlentory``."""
    monkeypatch.setenv("AIRFLOW_CONN_MLENTORY_STORAGE", json.dumps(servers.s3_connection(s3_port)))
    monkeypatch.setenv(storage.SCRATCH_VARIABLE, str(tmp_path / "scratch"))
    name = f"test-{uuid.uuid4().hex[:12]}"
    storage.storage_path(f"s3://{name}").fs.mkdir(name)
    return name


def put(root: str, relative: str, text: str) -> None:
    storage.storage_path(f"{root}/{relative}").write_text(text)


def objects(root: str) -> set[str]:
    path = storage.storage_path(root)
    path.fs.invalidate_cache()
    prefix = path.path.rstrip("/") + "/"
    return {name[len(prefix):] for name in path.fs.find(path.path)}


def test_a_task_works_on_local_copies_of_its_run_folder_and_uploads_only_what_it_changed(bucket, tmp_path):
    root = f"s3://{bucket}/mlentory"
    run_uri = f"{root}/hf/runs/20261124T000000000000Z_abcd1234"
    put(root, "hf/runs/20261124T000000000000Z_abcd1234/extraction/models.jsonl", '{"id": "a/b"}\n')
    put(root, "hf/runs/20261124T000000000000Z_abcd1234/errors/transformation__00000.jsonl", '{"id": "a/b"}\n')
    put(root, "hf/inputs/ids.txt", "a/b\n")
    put(root, "hf/runs/20261124T000000000000Z_0ff00000/extraction/models.jsonl", "{}\n")  # another run: not staged
    seen: list[Path] = []

    @storage.staged(lambda: root, run_folders=("run_folder",))
    def transform(run_folder: str, chunk: int) -> dict[str, object]:
        run = RunFolder(Path(run_folder))
        seen.append(run.path)
        assert not run_folder.startswith("s3://")
        assert list(read_jsonl(run.file("extraction", "models.jsonl"))) == [{"id": "a/b"}]
        assert (run.path.parent.parent / "inputs" / "ids.txt").read_text() == "a/b\n"
        assert not (run.path.parent / "20261124T000000000000Z_0ff00000").exists()
        run.clear_stage("transformation")  # removes the earlier try's error file
        run.mark_done("transformation", {"models": 1, "chunk": chunk})
        return {"run_folder": run_folder, "models": 1}

    result = transform(run_uri, chunk=3)  # positional, as Airflow passes a task's arguments

    assert result == {"run_folder": run_uri, "models": 1}
    assert objects(root) == {"hf/inputs/ids.txt", "hf/runs/20261124T000000000000Z_abcd1234/extraction/models.jsonl",
                             "hf/runs/20261124T000000000000Z_abcd1234/transformation/SUCCESS.json",
                             "hf/runs/20261124T000000000000Z_0ff00000/extraction/models.jsonl"}
    assert storage.read_json_at(run_uri, "transformation/SUCCESS.json")["chunk"] == 3
    assert not seen[0].exists()  # the workspace is gone: nothing stays on the worker's disk
    assert not storage.current_workspace()


def test_run_folders_chosen_in_a_scratch_folder_reached_through_a_symlink_are_named_by_uri(bucket, tmp_path, monkeypatch):
    """A scratch folder given through a symlink (``/tmp`` on some systems): the run folders a task
    resolves (symlinks followed) still go back as URIs, never as a worker's local path."""
    root = f"s3://{bucket}/mlentory"
    name = "20261124T000000000000Z_abcd1234"
    put(root, f"hf/runs/{name}/extraction/SUCCESS.json", "{}")
    (tmp_path / "real").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    monkeypatch.setenv(storage.SCRATCH_VARIABLE, str(tmp_path / "linked"))

    @storage.staged(lambda: root, run_folders=("run_folder",), run_listing=True)
    def choose(run_folder: str | None = None) -> list[str]:
        local_root = storage.current_workspace().local
        return [str(RunFolder.resolve(None, local_root, "hf", "extraction").path),
                str(RunFolder.resolve(storage.to_local(f"{root}/hf/runs/{name}"), local_root, "hf", "extraction").path)]

    assert choose() == [f"{root}/hf/runs/{name}"] * 2


def test_a_staged_task_must_name_its_run_folder_parameters():
    """A task that names no run-folder parameter (nor asks for the listing), or names one it does not
    have, is refused when it is declared, not given an empty workspace when it runs."""

    def chunk_task(folder: str, chunk: int) -> None: ...

    with pytest.raises(TypeError, match="names its run-folder parameters"):
        storage.staged(lambda: "s3://bucket/root")(chunk_task)
    with pytest.raises(TypeError, match="does not have: run_folder"):
        storage.staged(lambda: "s3://bucket/root", run_folders=("run_folder",))(chunk_task)
    assert storage.staged(lambda: "s3://bucket/root", run_folders=("folder",))(chunk_task).__name__ == "chunk_task"


def test_a_failed_task_uploads_nothing(bucket):
    root = f"s3://{bucket}/mlentory"
    put(root, "hf/runs/20261124T000000000000Z_abcd1234/extraction/models.jsonl", "{}\n")

    @storage.staged(lambda: root, run_folders=("run_folder",))
    def fails(run_folder: str) -> None:
        write_json(Path(run_folder) / "transformation" / "plan.json", {})
        raise RuntimeError("the task fails after writing")

    with pytest.raises(RuntimeError):
        fails(f"{root}/hf/runs/20261124T000000000000Z_abcd1234")
    assert objects(root) == {"hf/runs/20261124T000000000000Z_abcd1234/extraction/models.jsonl"}


def _update_revisions(root: str, worker: str, times: int, environment: dict[str, str]) -> None:
    import os

    os.environ.update(environment)
    for i in range(times):
        with storage.workspace(root) as space:  # a task each time, as a mapped task's tries would be
            run = RunFolder(space.local / "hf" / "runs" / "20261124T000000000000Z_abcd1234")
            LoadedRevisions(run).update({f"{worker}/model-{i}": f"sha{i}"})


def test_two_workers_updating_the_shared_state_never_lose_an_update(bucket, redis_port, tmp_path):
    """Two processes, each with its own scratch disk, update the loaded revisions in object storage
    at once: under the Redis lock every update of both is kept (without it, one's read-modify-write
    would overwrite the other's)."""
    import os

    root = f"s3://{bucket}/mlentory"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_update_revisions,
                               args=(root, f"w{n}", 12, {**{k: v for k, v in os.environ.items() if k.startswith(("AIRFLOW_CONN", "MLENTORY"))},
                                                        storage.SCRATCH_VARIABLE: str(tmp_path / f"worker{n}")}))
               for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [worker.exitcode for worker in workers] == [0, 0]
    revisions = {model_id: revision for shard in range(ID_SHARDS)
                 for model_id, revision in storage.read_json_at(root, f"hf/state/loaded_revisions/{shard:02d}.json", {}).items()}
    assert len(revisions) == 24 and revisions["w1/model-11"] == "sha11"
    assert not any(path.is_file() for n in range(2) for path in (tmp_path / f"worker{n}").rglob("*"))


def test_an_update_longer_than_the_lock_expiry_keeps_the_lock(bucket, redis_port, monkeypatch):
    """A holder renews the Redis lock while it works: another worker waits for it to finish, even
    past the expiry that frees the lock of a holder that died."""
    import threading
    import time

    from mlentory.pipeline.state import exclusive

    monkeypatch.setattr(storage, "STATE_LOCK_TIMEOUT_S", 1)
    root, events = f"s3://{bucket}/mlentory", []

    holding = threading.Event()  # "next" asks for the lock only once "long" holds it: no race on who starts first

    def update(name: str, wait_for: threading.Event | None, work: float) -> None:
        if wait_for is not None:
            assert wait_for.wait(timeout=30)
        with storage.workspace(root) as space:
            with exclusive(space.local / "hf" / "state" / "loaded_revisions.json"):
                events.append((name, "in"))
                holding.set()
                time.sleep(work)  # past the lock's expiry: the holder renews it
                events.append((name, "out"))

    threads = [threading.Thread(target=update, args=("long", None, 3)), threading.Thread(target=update, args=("next", holding, 0))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert events == [("long", "in"), ("long", "out"), ("next", "in"), ("next", "out")]


def test_shared_state_in_object_storage_needs_the_redis_connection(bucket, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_MLENTORY_STATE", raising=False)
    with storage.workspace(f"s3://{bucket}/mlentory") as space:
        run = RunFolder(space.local / "hf" / "runs" / "20261124T000000000000Z_abcd1234")
        with pytest.raises(PermanentFailure, match="mlentory_state"):
            LoadedRevisions(run).update({"a/b": "sha"})


def test_housekeeping_removes_old_run_folders_from_object_storage(bucket):
    root = f"s3://{bucket}/mlentory"
    old, newest_loaded, waiting = "20250101T000000000000Z_0dd00000", "20250102T000000000000Z_0ee00000", "20250103T000000000000Z_0aa00000"
    for name in (old, newest_loaded):
        put(root, f"hf/runs/{name}/loading/SUCCESS.json", '{"models_loaded": 1}')
        put(root, f"hf/runs/{name}/extraction/models.jsonl", "{}\n")
    put(root, f"hf/runs/{waiting}/extraction/SUCCESS.json", "{}")
    put(root, "hf/state/loaded_revisions/00.json", "{}")
    later = datetime.now(UTC) + timedelta(days=30)  # everything was written "30 days ago"

    @storage.staged(lambda: root, run_listing=True)
    def remove(dry_run: bool) -> dict[str, object]:
        return housekeeping.remove_old_run_folders(storage.current_workspace().local, 14, dry_run, now=later)

    assert remove(True)["removed"] == {"hf": [old, waiting]}
    assert len(objects(root)) == 6  # a dry run removes nothing
    assert remove(False)["removed"] == {"hf": [old, waiting]}
    assert objects(root) == {f"hf/runs/{newest_loaded}/loading/SUCCESS.json", f"hf/runs/{newest_loaded}/extraction/models.jsonl",
                             "hf/state/loaded_revisions/00.json"}
    # The kept folder's files were not replaced by the empty stand-ins the listing worked on.
    assert storage.read_json_at(f"{root}/hf/runs/{newest_loaded}", "loading/SUCCESS.json") == {"models_loaded": 1}
