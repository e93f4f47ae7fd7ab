"""The replay's models shelved in SQLite (the benchmark's million-model snapshots): the Hub client
lists them newest first page by page, looks one up, reads its card, and the dump made from them holds
every one; the shelved and the recorded snapshot answer alike. Served on loopback to the real client."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import FIXTURE_SNAPSHOT, start_replay

from devstack.replay.dump import iter_dump_rows, write_dump
from devstack.replay.models import SHELF_FILE, RecordedModels, ShelvedModels, shelve

MODELS = 2_345  # more than two pages of 1,000, the last one short


def _model(i: int) -> tuple[dict, str | None]:
    # Two models share each modification time: the listing's key must tell them apart by id.
    modified = f"2026-10-{1 + (MODELS - i) // 200:02d}T{(i // 2) % 24:02d}:00:00.000Z"
    return {"_id": f"{i:024x}", "id": f"org-{i % 7}/m-{i:05d}", "sha": f"{i:040x}", "lastModified": modified,
            "tags": ["text-classification"], "siblings": [{"rfilename": "README.md"}]}, (f"# m-{i}\n" if i % 3 == 0 else None)


@pytest.fixture
def shelf(tmp_path: Path) -> Iterator[Path]:
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    assert shelve(snapshot, (_model(i) for i in range(MODELS)), batch=500) == MODELS
    server = start_replay(snapshot, page_size=1_000)
    yield snapshot
    server.shutdown()
    server.server_close()


def _client():  # noqa: ANN202
    from mlentory.sources.huggingface.hook import HuggingFaceHubHook

    return HuggingFaceHubHook().get_conn()


def test_the_whole_listing_newest_first_then_a_limited_one(shelf):
    expected = sorted((_model(i)[0] for i in range(MODELS)), key=lambda m: (m["lastModified"], m["id"]), reverse=True)
    listed = [m["id"] for m in _client().latest_models(None)]
    assert listed == [m["id"] for m in expected]
    assert [m["id"] for m in _client().latest_models(1_500)] == [m["id"] for m in expected[:1_500]]


def test_a_model_its_card_and_a_model_without_one(shelf):
    client = _client()
    assert client.model("org-3/m-00003")["sha"] == f"{3:040x}"
    assert client.model_card("org-3/m-00003", f"{3:040x}") == "# m-3\n"
    assert client.model_card("org-1/m-00001", None) is None


def test_the_replay_makes_its_dump_from_the_shelf(shelf):
    from devstack.replay.dump import DUMP_DATASET, DumpSnapshot

    dumps = DumpSnapshot(shelf)
    info = dumps.info(DUMP_DATASET)
    assert info is not None and info["siblings"] == [{"rfilename": "data/train-00000-of-00001.parquet"}]
    assert pq.read_metadata(dumps.file(DUMP_DATASET, "data/train-00000-of-00001.parquet")).num_rows == MODELS
    made = dumps.file(DUMP_DATASET, "data/train-00000-of-00001.parquet")
    dumps.close()  # as the server's close does: the temporary dump is gone with it
    assert not made.exists() and not made.parents[3].exists() and dumps.info(DUMP_DATASET) is not None  # made again when asked
    dumps.close()


def test_the_dump_made_from_the_shelf_holds_every_model(shelf, tmp_path):
    written = write_dump(tmp_path / "dump", iter_dump_rows(shelf), rows_per_file=1_000, row_group_size=300)
    assert [p.name for p in written] == [f"train-{n:05d}-of-00003.parquet" for n in range(3)]
    rows = [row for path in written for row in pq.read_table(path).to_pylist()]
    assert len(rows) == MODELS and len({r["modelId"] for r in rows}) == MODELS
    assert sum(r["card"] is not None for r in rows) == len(range(0, MODELS, 3))
    assert pq.ParquetFile(written[0]).metadata.num_row_groups == 4  # 1,000 rows in groups of 300


def test_a_shelved_and_a_recorded_snapshot_answer_alike(tmp_path):
    recorded = RecordedModels(FIXTURE_SNAPSHOT)
    snapshot = tmp_path / "shelved"
    shutil.copytree(FIXTURE_SNAPSHOT, snapshot, ignore=shutil.ignore_patterns("models", "cards"))
    shelve(snapshot, iter(recorded))
    shelved = ShelvedModels(snapshot / SHELF_FILE)
    assert len(shelved) == len(recorded)
    for model, card in recorded:
        assert shelved.get(model["id"]) == json.loads(json.dumps(model)) and shelved.card(model["id"]) == card
    pages = []
    for models in (recorded, shelved):
        cursor, ids = None, []
        while True:
            page, cursor = models.page("lastModified", cursor, 3)
            ids += [m["id"] for m in page]
            if cursor is None:
                break
        pages.append(ids)
    assert pages[0] == pages[1] and len(pages[0]) == len(recorded)


def test_the_listing_task_keeps_the_pages_and_parse_tasks_in_any_order_give_the_listing(shelf, tmp_path, monkeypatch):
    from mlentory.pipeline.extraction import raw_records
    from mlentory.pipeline.run_folder import RunFolder, read_json
    from mlentory.sources.huggingface import listing

    monkeypatch.setattr(listing, "PAGES_PER_PARSE_TASK", 1)  # a parse task per page (50 a task otherwise)
    expected = [m["id"] for m in _client().latest_models(None)]
    for limit, every in ((0, True), (1_500, False)):  # the whole listing (a first complete one), then the newest 1,500
        run = RunFolder.create(tmp_path / f"data-{limit}", "hf")
        jobs = listing.list_latest_pages(str(run.path), _client(), limit, every_listed_model=every)
        assert [job["pages"] for job in jobs] == ([[0], [1], [2]] if every else [[0], [1]])
        parsed = {job["pages"][0]: listing.parse_listed_pages(job["run_folder"], job["pages"]) for job in reversed(jobs)}  # any order
        assert parsed == ({0: 1_000, 1: 1_000, 2: 345} if every else {0: 1_000, 1: 500})  # the second page cut where the limit falls
        wanted = expected if every else expected[:1_500]
        assert [r["id"] for r in raw_records(run, "latest")] == wanted
        newest = max(_model(i)[0]["lastModified"] for i in range(MODELS)).replace(".000Z", "+00:00")
        recorded = read_json(run.file("extraction", "catalogue", "listing.json"))
        assert (recorded["listed"], recorded["newest"]) == (len(wanted), newest)
