"""OpenML under rate limits and failures, through the real ``openml`` client against the replay:
a 429 or 503 is retried after the time the server asks (the client alone would parse the answer as
an OpenML error document and retry on its own schedule); a lookup that keeps failing for a reason
that will not go away is cached, one that may go away is asked again next run."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from conftest import FIXTURE_SNAPSHOT

from devstack.replay.server import ReplayServer
from mlentory.pipeline.extraction import MODELS_FILE
from mlentory.pipeline.run_folder import RunFolder, read_json
from mlentory.sources.openml.client import OpenMLClient, OpenMLSettings

API = "/api/v1/xml"


@pytest.fixture
def faulty_openml(tmp_path):
    root = tmp_path / "snapshot"
    shutil.copytree(FIXTURE_SNAPSHOT, root)
    servers: list[ReplayServer] = []

    def serve(faults: list[dict]) -> tuple[OpenMLClient, ReplayServer]:
        (root / "faults.json").write_text(json.dumps(faults))
        server = ReplayServer(root)
        server.start_in_thread()
        servers.append(server)
        return OpenMLClient(OpenMLSettings(server=f"{server.url}{API}", api_key=None, cache_dir=tmp_path / "client-cache")), server

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_429_and_503_are_retried_after_the_time_the_server_asks(faulty_openml):
    """Three 429s that ask for no wait are retried at once (the client alone gives up after its
    three tries, spaced by its own delays of seconds); a 503 asking for 2 s is waited 2 s."""
    client, server = faulty_openml([{"path": f"{API}/flow/list", "status": 429, "times": 3, "retry_after": 0},
                                    {"path": f"{API}/data/61", "status": 503, "times": 1, "retry_after": 2}])
    started = time.monotonic()
    assert [flow["id"] for flow in client.flow_listing()] == [101, 102]
    assert time.monotonic() - started < 1.5
    started = time.monotonic()
    assert client.dataset(61)["name"] == "iris"
    assert 2.0 <= time.monotonic() - started < 3.5
    assert server.stats["fault"] == 4


def test_a_lookup_that_cannot_succeed_is_cached_and_one_that_may_is_asked_again(faulty_openml, tmp_path):
    """Task 301's description served as something no parser reads (deterministic), dataset 61 as a
    503 that outlasts every retry (transient)."""
    from mlentory.sources.openml import extraction

    unreadable = tmp_path / "snapshot" / "openml" / "tasks" / "301" / "task.xml"
    unreadable.write_text("<oml:task xmlns:oml='http://openml.org/openml'><oml:task_id>301")  # cut short
    client, server = faulty_openml([{"path": f"{API}/data/61", "status": 503, "times": 100, "retry_after": 0}])
    run = RunFolder.create(tmp_path / "data", "openml")
    evaluations = run.file("extraction", "evaluations.jsonl")
    evaluations.parent.mkdir(parents=True, exist_ok=True)
    evaluations.write_text(json.dumps({"run_id": 5001, "flow_id": 101, "task_id": 301, "data_id": 61, "values": {}}) + "\n")
    run.file("extraction", MODELS_FILE).write_text(json.dumps({"id": "101"}) + "\n")  # the flow this run processes

    def lookups() -> tuple[int, dict, dict]:
        before = server.stats["openml"]
        extraction.identify_entities(str(run.path), "tasks", client)
        extraction.identify_entities(str(run.path), "datasets", client)
        return (server.stats["openml"] - before, read_json(run.file("extraction", "entities", "tasks.json")),
                read_json(run.file("extraction", "entities", "datasets.json")))

    requests, tasks, datasets = lookups()
    assert tasks["301"]["found"] is False and "ParseError" in tasks["301"]["unreadable"]
    assert "61" not in datasets  # not found is not what happened: the models that mention it are retried
    warnings = {w["key"]: w for w in run.warnings() if w.get("kind") in ("tasks", "datasets")}
    assert "unreadable at the source" in warnings["301"]["reason"] and warnings["61"]["retry"] is True
    again, tasks, _ = lookups()
    assert again == requests - 1  # the task is not asked for again; the dataset is
    assert "answer cached by an earlier run" in next(w["reason"] for w in run.warnings() if w.get("key") == "301")
