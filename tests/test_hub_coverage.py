"""Every model the Hub lists, catalogued from the first run: the whole listing enumerated once, later
runs listing only what changed since; the cards read under a per-run cap, oldest-missing first, the
rest waiting in a persisted backlog that later runs drain; the coverage stated in the run report.
Served by the replay to the real client, in pages of 3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURE_SNAPSHOT, clear, use_data_root
from pipeline import run_pipeline
from test_rerun import Hub

from mlentory.pipeline.run_folder import RunFolder, read_json, read_jsonl

LISTED = sorted(json.loads(p.read_text())["id"] for p in (FIXTURE_SNAPSHOT / "models").glob("*.json"))
WITHOUT_README = ["acme-ai/vision-det"]  # its siblings have no README.md
# Newest modification first, as the listing gives them (the fixture's lastModified).
WITH_README_BY_MODIFICATION = ["jdoe/sentiment-lm-gguf", "lab-x/speech-asr", "lab-x/broken-card", "community/merged-lm",
                               "lab-x/iris-logreg", "acme-ai/sentiment-lm", "acme-ai/base-lm", "acme-ai/old-base"]


@pytest.fixture
def hub(tmp_path):
    hub = Hub(tmp_path / "snapshot")
    yield hub
    hub.stop()


def _extract(data_root: Path, hub: Hub, max_card_fetches: int | None) -> RunFolder:
    """The Hub extraction's listing, merge, card and finishing steps (the DAG's task bodies), every listed model."""
    from mlentory.pipeline.extraction import create_run_folder
    from mlentory.sources.huggingface import extraction
    from mlentory.sources.huggingface.hook import HuggingFaceHubHook

    client = HuggingFaceHubHook().get_conn()
    run_folder = create_run_folder(str(data_root), "hf")
    extraction.harvest_latest_models(run_folder, client, 0, every_listed_model=True)
    extraction.merge_raw_models(run_folder, full_refresh=False)
    extraction.fetch_model_cards(run_folder, client, max_card_fetches)
    extraction.finish_extraction(run_folder, 1.0)
    return RunFolder(Path(run_folder))


def _backlog(data_root: Path) -> dict[str, dict]:
    return {e["id"]: e for e in read_jsonl(data_root / "hf" / "state" / "cards_missing.jsonl")}


def _loaded(run: RunFolder) -> None:
    """Record the run's models as loaded, as its loading does: an unchanged model is not listed again."""
    from mlentory.pipeline.state import LoadedRevisions

    LoadedRevisions(run).update({r["id"]: r["sha"] for r in read_jsonl(run.file("extraction", "models.jsonl"))})


def test_the_whole_listing_then_what_changed_and_the_card_backlog_drains_oldest_first(hub, tmp_path):
    data_root = tmp_path / "data"
    first = _extract(data_root, hub, max_card_fetches=2)
    assert hub.server.stats["api"] == 3  # 9 models in pages of 3: three listing requests, none per model
    assert hub.server.stats["resolve"] == 2  # the cap: two cards read, the newest models' first
    assert sorted(r["id"] for r in read_jsonl(first.file("extraction", "models.jsonl"))) == LISTED
    assert sorted(c["id"] for c in read_jsonl(first.file("extraction", "cards.jsonl"))) == sorted(WITH_README_BY_MODIFICATION[:2])
    coverage = read_json(first.file("extraction", "coverage.json"))
    assert coverage | {"listed_at": None} == {
        "listed": 9, "listed_at": None, "listing": "every", "listed_this_run": 9, "cards_read": 2, "cards_from_dump": 0,
        "cards_from_backlog": 0, "left_for_later": 6, "card_backlog": 6, "without_card": 1}
    backlog = _backlog(data_root)
    assert [i for i, e in backlog.items() if e["pending"]] == WITH_README_BY_MODIFICATION[2:]
    assert [i for i, e in backlog.items() if not e["pending"]] == WITHOUT_README
    assert backlog["acme-ai/old-base"]["model"]["sha"]  # the record waits with its card
    _loaded(first)

    # The oldest model is changed upstream: the next run lists back to the cursor only, and reads the
    # two cards missing longest (a changed model keeps its place in the queue, its new record replaces the old).
    record_path = hub.root / "models" / "acme-ai__old-base.json"
    record = json.loads(record_path.read_text())
    record.update(sha="f" * 40, lastModified="2026-06-01T00:00:00.000Z")
    record_path.write_text(json.dumps(record))
    hub.restart()
    second = _extract(data_root, hub, max_card_fetches=2)
    assert hub.server.stats["api"] == 1  # one page reaches past the cursor
    listing = read_json(second.file("extraction", "catalogue", "listing.json"))
    assert (listing["mode"], listing["listed"]) == ("since", 2)  # the changed model, and one within the overlap
    assert sorted(c["id"] for c in read_jsonl(second.file("extraction", "cards.jsonl"))) == ["community/merged-lm", "lab-x/broken-card"]
    models = [r["id"] for r in read_jsonl(second.file("extraction", "models.jsonl"))]
    assert sorted(models) == ["acme-ai/old-base", "community/merged-lm", "lab-x/broken-card"]  # processed again, with their cards
    backlog = _backlog(data_root)
    assert [i for i, e in backlog.items() if e["pending"]] == ["lab-x/iris-logreg", "acme-ai/sentiment-lm", "acme-ai/base-lm", "acme-ai/old-base"]
    assert backlog["acme-ai/old-base"]["model"]["sha"] == "f" * 40
    assert read_json(second.file("extraction", "coverage.json"))["listed"] == 9  # the last complete listing's count

    third = _extract(data_root, hub, max_card_fetches=None)
    assert sorted(c["id"] for c in read_jsonl(third.file("extraction", "cards.jsonl"))) == [
        "acme-ai/base-lm", "acme-ai/old-base", "acme-ai/sentiment-lm", "lab-x/iris-logreg"]
    coverage = read_json(third.file("extraction", "coverage.json"))
    assert (coverage["card_backlog"], coverage["without_card"], coverage["cards_from_backlog"]) == (0, 1, 3)


def test_a_card_that_cannot_be_read_waits_in_the_backlog(hub, tmp_path):
    data_root = tmp_path / "data"
    (hub.root / "faults.json").write_text(json.dumps([{"path": "/lab-x/speech-asr/resolve/", "status": 403, "times": 100}]))
    hub.restart()
    first = _extract(data_root, hub, max_card_fetches=None)
    errors = [e for e in first.errors("extraction") if e["part"].startswith("model_cards")]
    assert [e["id"] for e in errors] == ["lab-x/speech-asr"]
    assert [i for i, e in _backlog(data_root).items() if e["pending"]] == ["lab-x/speech-asr"]
    _loaded(first)
    (hub.root / "faults.json").unlink()
    hub.restart()
    second = _extract(data_root, hub, max_card_fetches=None)
    assert [c["id"] for c in read_jsonl(second.file("extraction", "cards.jsonl"))] == ["lab-x/speech-asr"]
    assert hub.server.stats["resolve"] == 1  # at the revision listed
    assert not [e for e in _backlog(data_root).values() if e["pending"]]


def _documents(stores) -> dict[str, dict]:
    es = stores.es()
    es.indices.refresh(index="mlentory_models")
    hits = es.search(index="mlentory_models", size=100, query={"match_all": {}})["hits"]["hits"]
    return {h["_source"]["identifier"]: h["_source"] for h in hits if h["_source"].get("source") == "huggingface"}


def test_every_listed_model_is_in_the_graph_and_the_index_from_the_first_run(stores, hub, tmp_path):
    from conftest import query

    clear(stores)
    use_data_root(tmp_path / "data")
    conf = {"num_models": 0, "every_listed_model": True, "max_card_fetches": 2, "ancestor_generations": 0}
    first = Path(run_pipeline(conf))
    nodes = query(stores, "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__sourceSha IS NOT NULL RETURN m.schema__identifier AS id")
    assert sorted(n["id"] for n in nodes) == LISTED
    documents = _documents(stores)
    assert sorted(documents) == LISTED
    coverage = read_json(first / "report.json")["source_coverage"]
    assert {k: coverage[k] for k in ("listed", "models_catalogued", "with_card_text", "card_backlog", "without_card")} == {
        "listed": 9, "models_catalogued": 9, "with_card_text": 2, "card_backlog": 6, "without_card": 1}
    assert "| card backlog (catalogued, card not read yet) | 6 |" in (first / "report.md").read_text()
    described = {i for i, d in documents.items() if d.get("description")}

    conf["max_card_fetches"] = 100
    second = Path(run_pipeline(conf))
    coverage = read_json(second / "report.json")["source_coverage"]
    assert (coverage["with_card_text"], coverage["card_backlog"], coverage["models_catalogued"]) == (8, 0, 9)
    documents = _documents(stores)
    assert sorted(documents) == LISTED
    gained = {i for i, d in documents.items() if d.get("description")} - described
    assert gained and gained <= set(WITH_README_BY_MODIFICATION[2:])  # the backlog's models gained their card text


def test_listed_models_take_their_cards_from_the_dump_of_the_same_modification(hub, tmp_path):
    from devstack.replay.dump import dump_rows, write_dump
    from mlentory.pipeline.extraction import create_run_folder
    from mlentory.sources.huggingface import DUMP_DATASET, extraction
    from mlentory.sources.huggingface.hook import HuggingFaceHubHook

    write_dump(hub.root, dump_rows(hub.root), rows_per_file=4)
    # One model changed after the dump was made: its card may have too, so it is read afresh.
    record_path = hub.root / "models" / "lab-x__speech-asr.json"
    record = json.loads(record_path.read_text())
    record.update(sha="e" * 40, lastModified="2026-06-01T00:00:00.000Z")
    record_path.write_text(json.dumps(record))
    hub.restart()
    client = HuggingFaceHubHook().get_conn()
    run_folder = create_run_folder(str(tmp_path / "data"), "hf")
    extraction.harvest_dump(run_folder, client, DUMP_DATASET, "main", None)
    extraction.harvest_latest_models(run_folder, client, 0, every_listed_model=True)
    extraction.merge_raw_models(run_folder, full_refresh=False)
    before = hub.server.stats["resolve"]
    extraction.fetch_model_cards(run_folder, client, None)
    run = RunFolder(Path(run_folder))
    assert hub.server.stats["resolve"] - before == 1  # the changed model's card only
    cards = {c["id"]: c for c in read_jsonl(run.file("extraction", "cards.jsonl"))}
    assert sorted(cards) == sorted(WITH_README_BY_MODIFICATION)
    assert cards["lab-x/speech-asr"]["sha"] == "e" * 40 and cards["acme-ai/base-lm"]["sha"] is None  # read afresh / from the dump
    extraction.finish_extraction(run_folder, 1.0)
    coverage = read_json(run.file("extraction", "coverage.json"))
    assert (coverage["cards_from_dump"], coverage["cards_read"], coverage["card_backlog"], coverage["without_card"]) == (7, 1, 0, 1)


def test_the_cards_are_read_in_chunks_each_task_its_own_and_the_end_joins_them_once(hub, tmp_path):
    """The DAG's card tasks: a plan of chunks, one mapped task per chunk (here two of three chunks;
    the end reads the one no task did), then the end. The same cards and backlog as one call, and a
    retried end changes nothing."""
    from mlentory.pipeline.extraction import create_run_folder
    from mlentory.sources.huggingface import extraction
    from mlentory.sources.huggingface.hook import HuggingFaceHubHook

    client = HuggingFaceHubHook().get_conn()
    run_folder = create_run_folder(str(tmp_path / "data"), "hf")
    extraction.harvest_latest_models(run_folder, client, 0, every_listed_model=True)
    extraction.merge_raw_models(run_folder, full_refresh=False)
    jobs = extraction.plan_model_cards(run_folder, max_fetches=5, chunk_size=2)
    assert [job["chunk"] for job in jobs] == [0, 1, 2]  # five of the eight cards, two a chunk
    run = RunFolder(Path(run_folder))
    for job in jobs[:2]:
        assert extraction.read_card_chunk(run_folder, client, job["chunk"]) == 2
    assert hub.server.stats["resolve"] == 4
    assert extraction.finish_model_cards(run_folder, client) == 5
    assert hub.server.stats["resolve"] == 5  # the third chunk, read by the end
    cards = sorted(c["id"] for c in read_jsonl(run.file("extraction", "cards.jsonl")))
    assert cards == sorted(WITH_README_BY_MODIFICATION[:5])  # all missing since this run: in listing order
    models = [m["id"] for m in read_jsonl(run.file("extraction", "models.jsonl"))]
    assert extraction.finish_model_cards(run_folder, client) == 5  # retried: nothing read again, nothing added twice
    assert hub.server.stats["resolve"] == 5
    assert [m["id"] for m in read_jsonl(run.file("extraction", "models.jsonl"))] == models
    extraction.finish_extraction(run_folder, 1.0)
    coverage = read_json(run.file("extraction", "coverage.json"))
    assert (coverage["cards_read"], coverage["card_backlog"], coverage["without_card"], coverage["left_for_later"]) == (5, 3, 1, 3)


def test_the_records_are_joined_once_into_chunks_that_the_mentions_and_the_transformation_read(hub, tmp_path):
    """The extraction joins each model with its card record once, into chunks; each chunk's
    mentions are found by a task of its own, and together they are those of one pass over the
    records; the transformation's chunks are the same records, re-chunked without being joined again."""
    from mlentory.pipeline import extraction as scaffolding
    from mlentory.pipeline import transformation
    from mlentory.sources.huggingface import SOURCE

    run = _extract(tmp_path / "data", hub, max_card_fetches=None)
    joined = [json.dumps(record, sort_keys=True) for record in SOURCE.mapping.records(run)]
    jobs = scaffolding.plan_record_chunks(SOURCE, str(run.path), chunk_size=3)
    assert [job["chunk"] for job in jobs] == [0, 1, 2]  # nine models, three a chunk
    for job in jobs[1:]:  # the first chunk's task did not run: its mentions are found when asked for
        scaffolding.collect_chunk_mentions(SOURCE, str(run.path), job["chunk"])
    for kind in SOURCE.mapping.groups_mentioning:
        assert scaffolding.mentioned_keys(SOURCE, run, kind) == scaffolding._mentions(SOURCE, SOURCE.mapping.records(run), (kind,))[kind]
    assert scaffolding.mentioned_keys(SOURCE, run, "licenses")  # the fixture's models name licences
    assert transformation.plan_chunks(SOURCE, str(run.path), chunk_size=5) == [0, 1]
    rechunked = [json.dumps(row, sort_keys=True) for chunk in (0, 1) for row in read_jsonl(transformation.chunk_file(run, chunk))]
    assert rechunked == joined
    # Of the same size (the default's), the transformation takes the extraction's chunk files as they
    # are: the same files, not a copy made line by line; a later join of the extraction's chunks
    # (a new file each) leaves them as they were.
    assert transformation.plan_chunks(SOURCE, str(run.path), chunk_size=3) == [0, 1, 2]
    assert all(transformation.chunk_file(run, chunk).samefile(scaffolding.record_chunk_file(run, chunk)) for chunk in (0, 1, 2))
    assert read_json(run.file("transformation", "plan.json")) == {"chunk_size": 3, "chunks": 3, "models": 9}
    taken = [transformation.chunk_file(run, chunk).read_bytes() for chunk in (0, 1, 2)]
    scaffolding.plan_record_chunks(SOURCE, str(run.path), chunk_size=4)
    assert [transformation.chunk_file(run, chunk).read_bytes() for chunk in (0, 1, 2)] == taken
    assert [json.dumps(row, sort_keys=True) for chunk in (0, 1, 2) for row in read_jsonl(transformation.chunk_file(run, chunk))] == joined


def test_a_model_only_the_standard_library_reads_is_joined_whole(tmp_path):
    """A NaN in a model's line (which msgspec refuses) and a dump model's revision (its last
    modification) are joined as the mapping's records give them."""
    from mlentory.pipeline.run_folder import RunFolder, loads, write_jsonl
    from mlentory.sources.huggingface.extraction import iter_record_lines
    from mlentory.sources.huggingface.mapping import records

    run = RunFolder.create(tmp_path, "hf")
    (run.path / "extraction").mkdir(parents=True)
    (run.path / "extraction" / "models.jsonl").write_text(
        '{"id": "a/nan", "sha": "abc", "downloads": NaN}\n'
        '{"id": "b/dump", "from_dump": true, "last_modified": "2026-01-02T00:00:00"}\n'
        '{"id": "c/plain", "sha": 7}\n')
    write_jsonl(run.path / "extraction" / "cards.jsonl", [{"id": "b/dump", "text": "# B"}])
    joined = [loads(line) for line in iter_record_lines(run)]
    assert [row["revision"] for row in joined] == ["abc", "lastModified:2026-01-02T00:00:00", 7]
    assert json.dumps(joined, sort_keys=True) == json.dumps(list(records(run)), sort_keys=True)  # NaN == NaN as text


def test_the_merge_reading_only_the_revision_fields_merges_as_one_decoding_whole_records(tmp_path):
    """The Hub's merge decodes only a model's id, revision and counts and writes its line as it is:
    the same models kept, skipped (with their counts) and listed twice as a merge of whole records."""
    from mlentory.pipeline import extraction as scaffolding
    from mlentory.pipeline.run_folder import RunFolder, read_jsonl
    from mlentory.pipeline.state import LoadedRevisions
    from mlentory.sources.huggingface import extraction
    from mlentory.sources.huggingface.hub import model_revision, model_statistics, modification_revision

    outcomes = []
    for fields in (None, extraction._MergeFields):
        run = RunFolder.create(tmp_path / str(fields is None), "hf")
        raw = run.path / "extraction" / "raw"
        raw.mkdir(parents=True)
        (raw / "by_id.jsonl").write_text('{"id": "a/named", "sha": "s1", "tags": ["x"], "cardData": {"license": "mit"}}\n')
        (raw / "latest.jsonl").write_text('{"id": "b/same", "sha": "s2", "downloads": 9, "likes": 1}\n'
                                          '{"id": "a/named", "sha": "older"}\n'
                                          '{"id": "c/nan", "sha": "s3", "score": NaN}\n'
                                          '{"id": "b/same", "sha": "s2"}\n')
        (raw / "dump.jsonl").write_text('{"id": "d/dump", "from_dump": true, "last_modified": "2026-01-01", "likes": 4}\n'
                                        '{"id": "e/new", "from_dump": true, "last_modified": "2026-02-01", "siblings": ["README.md"]}\n')
        LoadedRevisions(run).update({"b/same": "s2", "d/dump": "lastModified:2026-01-01"})
        counts = scaffolding.merge_harvests(str(run.path), ("by_id", "latest", "dump"), model_revision, False,
                                            same_revision=modification_revision, statistics=model_statistics, fields=fields)
        models = [json.dumps(m, sort_keys=True) for m in read_jsonl(run.path / "extraction" / "models.jsonl")]
        skipped = list(read_jsonl(run.path / "extraction" / "skipped_unchanged.jsonl"))
        outcomes.append((counts, models, skipped, [w["reason"] for w in run.warnings()]))
    assert outcomes[0] == outcomes[1]
    counts, models, skipped, warnings = outcomes[1]
    assert counts == {"models": 3, "skipped_unchanged": 2, "rejected_unchanged": 0}
    assert [json.loads(m)["id"] for m in models] == ["a/named", "c/nan", "e/new"] and '"cardData": {"license": "mit"}' in models[0]
    assert [(row["id"], row["revision"], row[scaffolding.STATISTICS]) for row in skipped] == [
        ("b/same", "s2", {"downloads": 9, "likes": 1}), ("d/dump", "lastModified:2026-01-01", {"likes": 4})]
    assert warnings == ["listed 2 times (the listing changed between pages); kept once"]
