"""The bulk first harvest from the Hub's public dump of model cards with metadata: a dump in the
real dump's parquet schema, made from the fixture's recorded models and cards, served by the replay
as the Hub serves a dataset's files, read by the real client. The same transformation and loading
as the API harvest; then the ordinary listing skips what has not changed since the dump."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURE_SNAPSHOT, clear, query, start_replay, use_data_root
from pipeline import normalized_records, run_dag, run_pipeline, xcom

from devstack.replay.dump import dump_rows, write_dump
from mlentory.pipeline.run_folder import RunFolder, read_jsonl

FIXTURE_MODELS = 9


@pytest.fixture(scope="module")
def dump_snapshot(tmp_path_factory) -> Path:
    """The fixture snapshot with its dump: 9 good rows and 2 that name no model, 4 rows a file."""
    snapshot = tmp_path_factory.mktemp("dump-snapshot") / "snapshot"
    shutil.copytree(FIXTURE_SNAPSHOT, snapshot)
    rows = dump_rows(snapshot)
    assert len(rows) == FIXTURE_MODELS
    bad = [{**rows[0], "modelId": None}, {**rows[1], "modelId": "not a repo id!"}]
    write_dump(snapshot, rows[:4] + bad + rows[4:], rows_per_file=4)
    return snapshot


@pytest.fixture
def replay(dump_snapshot):
    server = start_replay(dump_snapshot)
    yield server
    server.shutdown()
    server.server_close()


def test_the_dump_is_read_file_by_file_in_a_few_requests(replay, tmp_path):
    from mlentory.pipeline.extraction import create_run_folder
    from mlentory.sources.huggingface import DUMP_DATASET as HF_DUMP_DATASET
    from mlentory.sources.huggingface import extraction
    from mlentory.sources.huggingface.hook import HuggingFaceHubHook

    run_folder = Path(create_run_folder(str(tmp_path / "data"), "hf"))
    count = extraction.harvest_dump(str(run_folder), HuggingFaceHubHook().get_conn(), HF_DUMP_DATASET, "main", None)
    assert count == FIXTURE_MODELS
    assert (replay.stats["api"], replay.stats["resolve"]) == (1, 3)  # the file list, then 3 files: no request per model
    records = {r["id"]: r for r in read_jsonl(run_folder / "extraction" / "raw" / "dump.jsonl")}
    cards = {c["id"]: c for c in read_jsonl(run_folder / "extraction" / "raw" / "dump_cards.jsonl")}
    base = records["acme-ai/base-lm"]
    assert base["from_dump"] and base["sha"] is None and base["downloads"] == 52000 and base["library_name"] == "transformers"
    assert base["last_modified"].startswith("2023-09-05T14:49:34") and base["card_data"] == cards["acme-ai/base-lm"]["metadata"]
    assert set(cards) <= set(records) and len(cards) >= 6
    errors = [e for e in RunFolder(run_folder).errors("extraction") if e["part"] == "models_dump"]
    assert [e.get("input") for e in errors] == ["dump row 4", "dump row 5"]  # named by position: no usable id
    assert not list((run_folder / "extraction" / "dump").glob("*.parquet"))  # the files are not kept
    # At most n rows: only the first file is fetched.
    replay.stats.clear()
    limited = Path(create_run_folder(str(tmp_path / "data"), "hf"))
    assert extraction.harvest_dump(str(limited), HuggingFaceHubHook().get_conn(), HF_DUMP_DATASET, "main", 3) == 3
    assert replay.stats["resolve"] == 1


def _models(run_folder: str) -> dict[str, dict]:
    return normalized_records(run_folder)


def test_models_from_the_dump_map_as_the_apis_do_and_the_listing_then_skips_the_unchanged(stores, dump_snapshot, tmp_path):
    clear(stores)
    server = start_replay(dump_snapshot)
    try:
        use_data_root(tmp_path / "api")
        via_api = _models(run_pipeline({"num_models": FIXTURE_MODELS, "ancestor_generations": 0}))
        api_requests, resolver_requests = server.stats["api"], server.stats["resolve"]
        clear(stores)
        use_data_root(tmp_path / "dump")
        run_folder = run_pipeline({"num_models": 0, "ancestor_generations": 0, "bootstrap_from_dump": True, "max_error_rate": 0.3})
        via_dump = _models(run_folder)
        # The listing's one page became the dump's file list; the linked entities' lookups are the
        # same; the 8 cards came in the dump's 3 files.
        assert server.stats["api"] - api_requests == api_requests
        assert (resolver_requests, server.stats["resolve"] - resolver_requests) == (8, 3)
        assert via_dump.keys() == via_api.keys() and len(via_dump) == FIXTURE_MODELS
        # What the dump has, the mapping reads the same way: the card, tags, task, library, counts, dates.
        same = ("name", "keywords", "license", "mlTask", "inLanguage", "trainedOn", "isBasedOn", "fineTunedFrom",
                "referencePublication", "intendedUse", "usageInstructions", "sharedBy", "downloads", "likes", "dateModified", "dateCreated")
        for model_id, api_record in via_api.items():
            for term in same:
                assert via_dump[model_id].get(term) == api_record.get(term), (model_id, term)
        # The Hub's commit is not in the dump: no version, and the revision is the last modification.
        record = via_dump["acme-ai/base-lm"]
        assert "version" not in record and record["sourceSha"].startswith("lastModified:2023-09-05T14:49:34")
        assert query(stores, "MATCH (m:fair4ml__MLModel) WHERE m.mlentory__sourceSha STARTS WITH 'lastModified:' RETURN count(m) AS c") == [
            {"c": FIXTURE_MODELS}]
        # The ordinary listing next: nothing was modified since the dump, nothing is processed again.
        again = run_dag("hf_extraction", {"num_models": 5, "ancestor_generations": 0})
        summary = xcom(again, "hf_raw_models")
        assert summary == {"models": 0, "skipped_unchanged": 5, "rejected_unchanged": 0}
    finally:
        server.shutdown()
        server.server_close()


def test_a_model_gone_from_the_complete_dump_and_from_the_hub_is_withdrawn(stores, dump_snapshot, tmp_path):
    clear(stores)
    use_data_root(tmp_path / "data")
    snapshot = tmp_path / "snapshot"
    shutil.copytree(dump_snapshot, snapshot)
    server = start_replay(snapshot)
    try:
        run_pipeline({"num_models": 0, "ancestor_generations": 0, "bootstrap_from_dump": True, "max_error_rate": 0.3})
    finally:
        server.shutdown()
        server.server_close()
    # The next day: one model deleted on the Hub (gone from the dump too), one left out of the dump but live.
    deleted, left_out = "acme-ai/vision-det", "acme-ai/base-lm"
    (snapshot / "models" / f"{deleted.replace('/', '__')}.json").unlink()
    shutil.rmtree(snapshot / "dumps")
    write_dump(snapshot, [row for row in dump_rows(snapshot) if row["modelId"] != left_out], rows_per_file=4)
    server = start_replay(snapshot)
    try:
        run_folder = Path(run_pipeline({"num_models": 0, "ancestor_generations": 0, "bootstrap_from_dump": True, "max_error_rate": 0.3}))
    finally:
        server.shutdown()
        server.server_close()
    assert [r["id"] for r in read_jsonl(run_folder / "extraction" / "withdrawn.jsonl")] == [deleted]
    report = json.loads((run_folder / "loading" / "report.json").read_text())
    assert report["withdrawn"] == 1
    # The change feed names the withdrawal, with the model's IRI, as the second run's only entry.
    from mlentory.pipeline import feed

    assert report["feed"] == {"manifest": f"feed/{run_folder.name}.json", "added": 0, "changed": 0, "withdrawn": 1}
    [withdrawal] = feed.read_entries(tmp_path / "data" / "hf", after=feed.published_runs(tmp_path / "data" / "hf")[0]["run"])
    assert (withdrawal["id"], withdrawal["iri"], withdrawal["change"], withdrawal["terms"], withdrawal["run"]) == (
        deleted, f"https://huggingface.co/{deleted}", "withdrawn", ["withdrawn"], run_folder.name)
    # Still in the graph (what links to it resolves), marked with the date; gone from the search.
    [node] = query(stores, "MATCH (m {uri: $u}) RETURN m.mlentory__withdrawn AS withdrawn, m.schema__name AS name",
                   u=f"https://huggingface.co/{deleted}")
    assert node["withdrawn"] and node["name"] == deleted
    es = stores.es()
    names = {h["_source"]["identifier"] for h in es.search(index="mlentory_models", size=50, query={"match_all": {}})["hits"]["hits"]}
    assert deleted not in names and left_out in names and len(names) == FIXTURE_MODELS - 1
    assert query(stores, "MATCH (m {uri: $u}) RETURN m.mlentory__withdrawn AS withdrawn", u=f"https://huggingface.co/{left_out}") == [
        {"withdrawn": None}]
