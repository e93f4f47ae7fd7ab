"""Faults: rate limits and server errors are retried (honouring Retry-After); one bad record never
stops the others; too many bad records fail the run."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
import requests
from conftest import FIXTURE_SNAPSHOT
from huggingface_hub import HfApi

from devstack.replay.server import ReplayServer
from mlentory.http_retry import retry_after_seconds
from mlentory.pipeline import transformation
from mlentory.pipeline.extraction import raw_records
from mlentory.pipeline.quality import ErrorRateExceeded, check_error_rate
from mlentory.pipeline.run_folder import RunFolder, read_jsonl, write_jsonl
from mlentory.sources import HUGGINGFACE
from mlentory.sources.huggingface.hub import HubClient


@pytest.fixture
def faulty_hub(tmp_path):
    root = tmp_path / "snapshot"
    shutil.copytree(FIXTURE_SNAPSHOT, root)

    def serve(faults: list[dict]) -> tuple[HubClient, ReplayServer]:
        (root / "faults.json").write_text(json.dumps(faults))
        server = ReplayServer(root)
        server.start_in_thread()
        servers.append(server)
        return HubClient(HfApi(endpoint=server.url, token=False)), server

    servers: list[ReplayServer] = []
    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_429_is_retried_after_the_time_the_server_asks(faulty_hub):
    hub, server = faulty_hub([{"path": "/api/models/acme-ai/base-lm", "status": 429, "times": 2, "retry_after": 1}])
    started = time.monotonic()
    record = hub.model("acme-ai/base-lm")
    assert record["sha"] == "2" * 40
    assert server.stats["fault"] == 2
    assert time.monotonic() - started >= 2.0


def test_server_errors_are_retried_then_succeed(faulty_hub):
    hub, server = faulty_hub([{"path": "/acme-ai/base-lm/resolve/", "status": 503, "times": 1}])
    assert hub.model_card("acme-ai/base-lm", "2" * 40).startswith("---")
    assert server.stats["fault"] == 1


def test_not_found_is_not_retried(faulty_hub):
    hub, server = faulty_hub([])
    with pytest.raises(Exception) as raised:
        hub.model("ghost/none")
    assert raised.value.response.status_code == 404
    assert server.stats["api"] == 1


def test_retry_after_as_http_date():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    error = httpx.HTTPStatusError("429", request=httpx.Request("GET", "http://x"), response=httpx.Response(429, headers={"Retry-After": when}))
    assert 25 <= retry_after_seconds(error) <= 30


def _run_with_models(tmp_path: Path, models: list[dict]) -> RunFolder:
    run = RunFolder.create(tmp_path, "hf")
    write_jsonl(run.file("extraction", "models.jsonl"), models)
    write_jsonl(run.file("extraction", "cards.jsonl"), [])
    return run


def test_one_bad_record_is_listed_and_the_others_are_transformed(tmp_path):
    good = {"id": "a/good", "sha": "1" * 40, "tags": ["license:mit"], "card_data": {"license": "mit"}}
    bad = {"id": "a/bad", "sha": "2" * 40, "tags": ["license:mit"], "card_data": "not a mapping"}
    run = _run_with_models(tmp_path, [good, bad])
    chunks = transformation.plan_chunks(HUGGINGFACE, str(run.path), chunk_size=10)
    for chunk in chunks:
        transformation.extract_properties(HUGGINGFACE, str(run.path), chunk)
    transformation.link_entities(HUGGINGFACE, str(run.path))
    summary = transformation.normalize_models(HUGGINGFACE, str(run.path), max_error_rate=0.5)
    assert summary["models"] == 1
    records = json.loads(run.file("transformation", "models", "00000.jsonld").read_text())["@graph"]
    assert [r["identifier"] for r in records] == ["a/good"]
    assert records[0]["license"] == ["https://spdx.org/licenses/MIT"]
    errors = run.errors("transformation")
    assert {e["id"] for e in errors} == {"a/bad"} and all("TypeError" in e["reason"] for e in errors)


def test_error_rate_above_the_limit_fails_the_stage(tmp_path):
    bad = [{"id": f"a/bad{i}", "card_data": "not a mapping", "tags": []} for i in range(3)]
    run = _run_with_models(tmp_path, [{"id": "a/good", "tags": []}, *bad])
    [chunk] = transformation.plan_chunks(HUGGINGFACE, str(run.path), 10)
    transformation.extract_properties(HUGGINGFACE, str(run.path), chunk)
    transformation.link_entities(HUGGINGFACE, str(run.path))
    with pytest.raises(ErrorRateExceeded, match="3 of 4"):
        transformation.normalize_models(HUGGINGFACE, str(run.path), max_error_rate=0.5)
    assert not run.is_done("transformation")
    check_error_rate("x", 1, 4, 0.25)  # exactly at the limit passes


def test_skipped_unchanged_models_are_recorded(tmp_path):
    run = _run_with_models(tmp_path, [])
    assert list(read_jsonl(run.file("extraction", "skipped_unchanged.jsonl"))) == []


def test_arxiv_outage_leaves_stub_articles_and_lists_the_papers(tmp_path):
    import arxiv

    from mlentory.sources.huggingface import extraction

    model = {"id": "a/m", "sha": "1" * 40, "tags": ["arxiv:2101.00001"], "card_data": {}}
    run = _run_with_models(tmp_path, [model])
    unreachable = arxiv.Client(num_retries=0, delay_seconds=0)
    unreachable.query_url_format = "http://127.0.0.1:9/api/query?{}"  # nothing listens on port 9
    assert extraction.identify_entities(str(run.path), "articles", arxiv_client=unreachable) == 1
    assert json.loads(run.file("extraction", "entities", "articles.json").read_text()) == {"2101.00001": {"found": False}}
    # The models still load (with a stub paper): the failed lookup is a warning of the run, not a lost record.
    assert run.errors("extraction") == []
    [warning] = run.warnings()
    assert (warning["kind"], warning["key"]) == ("articles", "2101.00001") and warning["what"] == "arXiv lookup" and "Connection refused" in warning["reason"]


def test_a_base_model_lookup_that_keeps_failing_is_a_warning_not_a_failed_harvest(faulty_hub, tmp_path):
    from mlentory.sources.huggingface import extraction

    hub, server = faulty_hub([{"path": "/api/models/acme-ai/base-lm", "status": 503, "times": 10, "retry_after": 0}])
    model = {"id": "a/child", "sha": "1" * 40, "tags": ["base_model:acme-ai/base-lm", "base_model:finetune:acme-ai/base-lm"]}
    run = _run_with_models(tmp_path, [model])
    assert extraction.add_ancestor_models(str(run.path), hub, generations=1, full_refresh=False) == 0
    [warning] = run.warnings()
    assert (warning["id"], warning["what"]) == ("acme-ai/base-lm", "base model lookup")
    assert "503" in warning["reason"] and "stub" in warning["reason"]
    assert server.stats["fault"] == 5  # retried, then given up on
    assert [m["id"] for m in read_jsonl(run.file("extraction", "models.jsonl"))] == ["a/child"]


def test_a_stalled_answer_is_cut_at_the_read_timeout_and_retried(faulty_hub):
    from mlentory.sources.huggingface.hub import use_http_timeouts

    hub, server = faulty_hub([{"path": "/acme-ai/base-lm/resolve/", "delay": 4, "times": 1}])
    use_http_timeouts(read_seconds=1)
    try:
        started = time.monotonic()
        assert hub.model_card("acme-ai/base-lm", "2" * 40).startswith("---")
        assert time.monotonic() - started < 3.5  # not the 4 s stall: cut after 1 s, then asked again
        assert server.stats["fault"] == 1
    finally:
        use_http_timeouts()


def test_a_stalled_model_info_is_cut_at_the_read_timeout_too(faulty_hub):
    from mlentory.sources.huggingface.hub import use_http_timeouts

    hub, server = faulty_hub([{"path": "/api/models/acme-ai/base-lm", "delay": 4, "times": 1}])
    use_http_timeouts(read_seconds=1)
    try:
        started = time.monotonic()
        assert hub.model("acme-ai/base-lm")["sha"] == "2" * 40
        assert time.monotonic() - started < 3.5 and server.stats["fault"] == 1
    finally:
        use_http_timeouts()


def test_arxiv_requests_time_out_too(faulty_hub):
    import arxiv

    from mlentory.enrichment.arxiv_papers import SessionWithTimeouts, fetch_articles

    _, server = faulty_hub([{"path": "/api/query", "delay": 4, "times": 1}])
    client = arxiv.Client(num_retries=0, delay_seconds=0)
    client.query_url_format = server.url + "/api/query?{}"
    client._session = SessionWithTimeouts(read_seconds=1)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        fetch_articles(client, ["2101.00001"])
    assert time.monotonic() - started < 3.5


def test_every_task_has_an_execution_timeout():
    from pipeline import dag_bag

    for dag in dag_bag().dags.values():
        for task in dag.tasks:
            assert task.execution_timeout is not None and task.execution_timeout.total_seconds() > 0, f"{dag.dag_id}.{task.task_id}"


def test_an_unreachable_graph_store_fails_the_task_instead_of_every_record():
    import socket

    from neo4j import GraphDatabase
    from neo4j.exceptions import ServiceUnavailable

    from mlentory.stores.graph import GraphLoader

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    records = [{"@id": f"https://huggingface.co/a/m{i}", "@type": "MLModel", "name": f"a/m{i}"} for i in range(3)]
    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", "x"), connection_timeout=2, max_transaction_retry_time=1) as driver:
        with pytest.raises(ServiceUnavailable):
            GraphLoader(driver, batch_size=2).load(records)


MALFORMED_LISTING_ENTRIES = {
    "bad-date": {"lastModified": "yesterday-ish"},
    "bad-created": {"createdAt": 12},
    "sibling-without-name": {"siblings": [{"size": 3}]},
    "card-data-string": {"cardData": "license: mit"},
    "safetensors-odd": {"safetensors": {"parameters": "many"}},
    "transformers-info-odd": {"transformersInfo": ["x"]},
}


def test_a_malformed_listing_entry_is_listed_and_costs_no_good_model(faulty_hub, tmp_path):
    from mlentory.sources.huggingface import extraction

    hub, server = faulty_hub([])
    snapshot = server.snapshot.root
    for name, fields in MALFORMED_LISTING_ENTRIES.items():
        body = {"_id": name, "id": f"bad/{name}", "modelId": f"bad/{name}", "sha": "9" * 40, "lastModified": "2030-01-01T00:00:00.000Z",
                "tags": [], **fields}
        (snapshot / "models" / f"bad__{name}.json").write_text(json.dumps(body))
    (snapshot / "models" / "bad__int-id.json").write_text(json.dumps({"_id": "x", "id": 42, "lastModified": "2030-01-02T00:00:00.000Z"}))
    server.snapshot.__init__(snapshot)  # serve the new files
    run = RunFolder.create(tmp_path, "hf")
    listed = extraction.harvest_latest_models(str(run.path), hub, limit=50)
    good = {m["id"] for m in raw_records(run, "latest")}
    errors = run.errors("extraction")
    assert len(good | {e.get("id") or e["input"] for e in errors}) == listed + len(errors)
    assert {m.stem.replace("__", "/") for m in FIXTURE_SNAPSHOT.joinpath("models").glob("*.json")} <= good
    failed = {e["id"] for e in errors if "id" in e}
    by_position = {e["input"] for e in errors if "input" in e}
    assert len(by_position) == 1  # the entry whose id is no repo id: named by its position, never by its content
    assert all(e["reason"] and e["what"] == "listing entry" for e in errors)
    assert failed - by_position == {f"bad/{name}" for name in MALFORMED_LISTING_ENTRIES} - good


def test_a_model_listed_on_two_pages_is_kept_once_with_a_warning(tmp_path):
    from mlentory.sources.huggingface import extraction

    run = RunFolder.create(tmp_path, "hf")
    write_jsonl(run.file("extraction", "raw", "latest.jsonl"), [{"id": "a/one", "sha": "1"}, {"id": "a/two", "sha": "2"}, {"id": "a/one", "sha": "1"}])
    assert extraction.merge_raw_models(str(run.path), full_refresh=True) == {"models": 2, "skipped_unchanged": 0, "rejected_unchanged": 0}
    [warning] = run.warnings()
    assert warning["id"] == "a/one" and "2 times" in warning["reason"]


@pytest.mark.system  # starts and kills a graph store of its own
def test_the_graph_store_killed_during_loading_and_restarted(tmp_path):
    """The attempt against the dead store fails the task (Airflow retries it); the retry against the
    restarted store completes, and MERGE leaves nothing lost or doubled."""
    import os
    import signal
    import threading

    from neo4j import GraphDatabase
    from neo4j.exceptions import ServiceUnavailable

    from devstack import servers
    from mlentory.stores.graph import GraphLoader

    password = "kill-" + os.urandom(6).hex()
    records = [{"@id": f"https://huggingface.co/k/m{i}", "@type": "MLModel", "name": f"k/m{i}",
                "keywords": [f"https://w3id.org/mlentory/keyword/k{i % 7}"]} for i in range(3_000)]
    graph, bolt, http = servers.start_arcadedb_on_free_ports(tmp_path / "arcadedb", password)
    try:
        with GraphDatabase.driver(f"bolt://127.0.0.1:{bolt}", auth=("root", password), max_transaction_retry_time=2) as driver:
            GraphLoader(driver).ensure_schema()
            killer = threading.Timer(1.0, lambda: os.kill(graph.pid, signal.SIGKILL))  # mid-load
            killer.start()
            with pytest.raises(ServiceUnavailable):
                GraphLoader(driver, batch_size=100).load(records)
            killer.join()
        graph.wait(30)
        graph = servers.start_arcadedb(tmp_path / "arcadedb", bolt, http, password)  # same data, same ports
        with GraphDatabase.driver(f"bolt://127.0.0.1:{bolt}", auth=("root", password)) as driver:
            assert GraphLoader(driver, batch_size=500).load(records) == (3_000, [])  # the task's retry
            with driver.session() as session:
                counts = session.run("MATCH (m:Resource) WHERE m.uri STARTS WITH 'https://huggingface.co/k/' "
                                     "RETURN count(m) AS nodes, count(DISTINCT m.uri) AS uris").single()
                keywords = session.run("MATCH (:fair4ml__MLModel)-[r:schema__keywords]->() RETURN count(r) AS c").single()["c"]
        assert (counts["nodes"], counts["uris"], keywords) == (3_000, 3_000, 3_000)
    finally:
        servers.stop(graph.pid)


@pytest.mark.parametrize("faults", [
    [{"path": "/api/models", "status": 429, "times": 2, "retry_after": 0}, {"path": "/api/models", "status": 503, "times": 1, "retry_after": 0}],
    [{"path": "/api/models", "delay": 4, "times": 1}],  # a listing page that stalls: cut at the read timeout
])
def test_listing_pages_survive_bursts_of_429_5xx_and_stalls(faulty_hub, tmp_path, faults):
    from mlentory.sources.huggingface import extraction
    from mlentory.sources.huggingface.hub import use_http_timeouts

    hub, server = faulty_hub(faults)
    use_http_timeouts(read_seconds=1)
    try:
        run = RunFolder.create(tmp_path, "hf")
        started = time.monotonic()
        assert extraction.harvest_latest_models(str(run.path), hub, limit=50) == len(list((FIXTURE_SNAPSHOT / "models").glob("*.json")))
        stalls = [f["delay"] for f in faults if "delay" in f]
        assert not stalls or time.monotonic() - started < min(stalls)  # a stalled page is not waited out (cut at 1 s, asked again)
        assert server.stats["fault"] == sum(f["times"] for f in faults)
        ids = [m["id"] for m in raw_records(run, "latest")]
        assert len(ids) == len(set(ids))  # a retried listing is rewritten from its first page, not appended
    finally:
        use_http_timeouts()


def _sharing_chunk(tag: str, size: int) -> list[dict]:
    """Models that all link to the same 13 keywords and 17 base models."""
    return [{"@id": f"https://huggingface.co/{tag}/m{i}", "@type": "MLModel", "name": f"{tag}/m{i}",
             "keywords": [f"https://w3id.org/mlentory/keyword/k{i % 13}"],
             "isBasedOn": [f"https://huggingface.co/base/b{i % 17}"]} for i in range(size)]


def _in_parallel(load, tags, caplog, level: int) -> None:  # noqa: ANN001
    """``load(tag)`` for every tag at once, each in a thread of its own, logs captured at ``level``."""
    import threading

    writers = [threading.Thread(target=load, args=(tag,)) for tag in tags]
    with caplog.at_level(level, logger="mlentory.stores.graph"):
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()


def test_loading_tasks_writing_the_same_nodes_at_once_lose_nothing(empty_stores, caplog):
    """Model chunks loaded in parallel share base models, keywords and stubs: a write conflict
    (deadlock, or the stand-in's uniqueness violation on MERGE) is retried as a whole batch, so no
    record becomes an error and no batch falls back to one transaction per record."""
    import logging

    from mlentory.stores.graph import GraphLoader

    stubs = [{"@id": f"https://huggingface.co/base/b{i}", "@type": "MLModel", "name": f"base/b{i}"} for i in range(17)]
    results: dict[str, tuple[int, list]] = {}
    with empty_stores.driver() as driver:
        GraphLoader(driver).ensure_schema()

        def load(tag: str) -> None:
            results[tag] = GraphLoader(driver, batch_size=150).load(stubs if tag == "stubs" else _sharing_chunk(tag, 1_500), stubs=tag == "stubs")

        _in_parallel(load, ("a", "b", "c", "stubs"), caplog, logging.WARNING)
        with driver.session() as session:
            models = session.run("MATCH (m:fair4ml__MLModel) RETURN count(m) AS c, count(DISTINCT m.uri) AS u").single()
            based_on = session.run("MATCH (:fair4ml__MLModel)-[r:schema__isBasedOn]->(:fair4ml__MLModel) RETURN count(r) AS c").single()["c"]
            keywords = session.run("MATCH ()-[r:schema__keywords]->() RETURN count(r) AS c").single()["c"]
    assert results == {"a": (1_500, []), "b": (1_500, []), "c": (1_500, []), "stubs": (17, [])}
    assert (models["c"], models["u"], based_on, keywords) == (4_517, 4_517, 4_500, 4_500)
    assert "loading one by one" not in caplog.text


def test_a_model_named_by_id_with_an_unreadable_model_index_is_not_dropped_silently(faulty_hub, tmp_path):
    """huggingface_hub drops a model-index it cannot read without a trace, in ``model_info`` as in
    the listing; the by-id harvest keeps it as the Hub sent it, and the mapping says it could not be read."""
    from mlentory.sources.huggingface.properties import evaluations

    body = json.loads((FIXTURE_SNAPSHOT / "models" / "acme-ai__base-lm.json").read_text())
    body.update({"id": "bad/model-index-string", "modelId": "bad/model-index-string",
                 "cardData": {"license": "mit", "model-index": "results"}})
    (tmp_path / "snapshot" / "models" / "bad__model-index-string.json").write_text(json.dumps(body))
    hub, _ = faulty_hub([])
    record = hub.model("bad/model-index-string")
    assert record["card_data"]["model-index"] == "results" and record["card_data"]["license"] == "mit"
    [note] = evaluations(record, None)["_warnings"]
    assert note["reason"].startswith("model-index not readable; no evaluation recorded (entry 1 is str")
    assert "_warnings" not in evaluations(hub.model("acme-ai/base-lm"), None)
    with pytest.raises(Exception) as missing:
        hub.model("nobody/nothing")
    assert missing.value.response.status_code == 404


def test_with_every_node_made_first_parallel_loads_never_conflict(empty_stores, caplog):
    """The loading DAG makes every node of the run first, in one task (``create_graph_nodes``): the
    parallel loads after it only match the nodes they link to, and no two of them ever create the
    same node, so none has to wait for or retry after another."""
    import logging

    from mlentory.stores.graph import GraphLoader, linked_nodes

    chunks = {tag: _sharing_chunk(tag, 1_000) for tag in ("a", "b", "c")}
    results: dict[str, tuple[int, list]] = {}
    with empty_stores.driver() as driver:
        GraphLoader(driver).ensure_schema()
        made = GraphLoader(driver).create_nodes(iri for records in chunks.values() for record in records for iri in linked_nodes(record))
        assert made == 3_000 + 13 + 17

        def load(tag: str) -> None:
            results[tag] = GraphLoader(driver, batch_size=100).load(chunks[tag])

        _in_parallel(load, chunks, caplog, logging.INFO)
        with driver.session() as session:
            nodes = session.run("MATCH (n:Resource) RETURN count(n) AS c").single()["c"]
            based_on = session.run("MATCH ()-[r:schema__isBasedOn]->() RETURN count(r) AS c").single()["c"]
    assert results == {tag: (1_000, []) for tag in chunks}
    assert (nodes, based_on) == (3_030, 3_000)
    assert "write conflict" not in caplog.text


def test_a_write_conflict_that_outlasts_its_retries_fails_the_load_instead_of_one_record_at_a_time(empty_stores, monkeypatch):
    from neo4j.exceptions import TransientError

    from mlentory.stores import graph
    from mlentory.stores.graph import GraphLoader

    calls = []

    def conflicting(self, records, stubs=False):  # noqa: ANN001, ANN202
        calls.append(len(records))
        raise TransientError("deadlock")

    monkeypatch.setattr(GraphLoader, "write_batch", conflicting)
    monkeypatch.setattr(graph.time, "sleep", lambda seconds: None)
    with empty_stores.driver() as driver, pytest.raises(TransientError):
        GraphLoader(driver, batch_size=10).load([{"@id": f"https://huggingface.co/a/m{i}", "@type": "MLModel"} for i in range(10)])
    assert calls == [10] * graph.CONFLICT_ATTEMPTS  # the whole batch each time, never one record
