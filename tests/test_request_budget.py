"""One request budget per API, shared by every task: a run never sends more than the window allows,
waits where it must ask (a listing page), and defers the enrichment that can wait (accounts,
datasets) to later runs, which complete the stubs it left."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

from conftest import FIXTURE_SNAPSHOT, clear, query, start_replay, use_data_root
from pipeline import run_pipeline

from mlentory.pipeline.budget import Allowance, RequestBudget
from mlentory.pipeline.run_folder import read_json, read_jsonl


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_budget_waits_for_room_and_is_the_same_for_every_holder(tmp_path):
    clock = FakeClock()
    allowance = Allowance("api", requests=5, window_seconds=10)
    first, second = (RequestBudget(tmp_path, allowance, clock=clock.time, sleep=clock.sleep) for _ in range(2))
    assert [first.acquire() for _ in range(3)] == [0.0] * 3
    clock.now += 4
    assert [second.acquire() for _ in range(2)] == [0.0] * 2  # another worker's budget: the same file
    assert first.available() == second.available() == 0
    waited = first.acquire()  # the first three leave the window a second after theirs began
    assert 6.5 <= waited <= 7.0 and clock.now >= 1_000 + 11
    assert second.available() == 2  # the first three left; the last two and this one are in it


def test_lookups_reserve_their_room_so_two_tasks_never_count_on_the_same(tmp_path):
    """Two tasks deciding at once how many lookups to send: the room one reserved is gone for the
    other (each would otherwise send its lookups and then wait a whole window), and the reserved
    requests are spent without waiting or touching the shared file."""
    clock = FakeClock()
    allowance = Allowance("api", requests=10, window_seconds=300)
    datasets, accounts = (RequestBudget(tmp_path, allowance, clock=clock.time, sleep=clock.sleep) for _ in range(2))
    datasets.acquire()  # a listing page
    assert datasets.reserve(6) == 6
    assert accounts.reserve(2 * 4) == 3  # 4 lookups of 2 requests wanted: 3 requests left, so 1 lookup
    assert accounts.reserve(5) == 0 and datasets.available() == 0
    shared = tmp_path / "api.json"
    before = shared.stat().st_mtime_ns, shared.read_text()
    assert [datasets.acquire() for _ in range(6)] == [0.0] * 6 and clock.now == 1_000.0  # no wait
    assert (shared.stat().st_mtime_ns, shared.read_text()) == before
    waited = datasets.acquire()  # beyond what it reserved: waits for the window like any request
    assert waited > 0


def _spend(folder: str, times: int, out: str) -> None:
    budget = RequestBudget(Path(folder), Allowance("api", requests=8, window_seconds=1.5))
    stamps = []
    for _ in range(times):
        budget.acquire()
        stamps.append(time.time())
    Path(out).write_text(json.dumps(stamps))


def _two_workers_spend(target, folders: list[str], out: Path) -> None:  # noqa: ANN001 - a process target
    """Two processes send 7 requests each through a budget of 8 per 1.5 s: together they never
    exceed it, and the last ones wait for room."""
    workers = [multiprocessing.get_context("spawn").Process(target=target, args=(folders[i], 7, str(out / f"{i}.json"))) for i in range(2)]
    started = time.time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    stamps = sorted(s for i in range(2) for s in json.loads((out / f"{i}.json").read_text()))
    assert len(stamps) == 14
    assert max(sum(1 for s in stamps if start <= s < start + 1.5) for start in stamps) <= 8
    assert stamps[-1] - started >= 1.5  # 14 requests at 8 per window: the last ones waited for room


def test_workers_in_separate_processes_never_exceed_the_window_together(tmp_path):
    _two_workers_spend(_spend, [str(tmp_path)] * 2, tmp_path)


def _spend_shared(data_root: str, times: int, out: str) -> None:
    os.environ["AIRFLOW_VAR_MLENTORY_DATA_ROOT"] = data_root  # a worker's own disk: nothing shared there
    from mlentory.pipeline.budget import shared_budget

    budget = shared_budget(Allowance("api", requests=8, window_seconds=1.5))
    stamps = []
    for _ in range(times):
        budget.acquire()
        stamps.append(time.time())
    Path(out).write_text(json.dumps(stamps))


def test_workers_without_a_shared_disk_share_the_budget_in_redis(tmp_path, redis_port):
    """With the ``mlentory_state`` connection naming a Redis server, workers on different disks (two
    data roots here) keep one budget there, under a Redis lock, and never exceed it together."""
    import redis

    roots = [tmp_path / f"worker{i}" for i in range(2)]
    _two_workers_spend(_spend_shared, [str(root) for root in roots], tmp_path)
    buckets = json.loads(redis.Redis(port=redis_port).get("mlentory:budget:api"))
    assert sum(count for _, count in buckets) <= 8  # what the window holds now, in Redis
    assert not any((root / "budget").exists() for root in roots)  # nothing on the workers' disks


def _hub_budget(api_requests: int, port: int) -> None:
    os.environ["AIRFLOW_CONN_HUGGINGFACE_DEFAULT"] = json.dumps({
        "conn_type": "generic", "host": "127.0.0.1", "port": port, "schema": "http",
        "extra": {"api_requests": api_requests, "window_seconds": 600}})


def test_lookups_beyond_the_budget_are_deferred_as_stubs_and_completed_by_the_next_run(stores, tmp_path):
    clear(stores)
    data = use_data_root(tmp_path / "data")
    server = start_replay(FIXTURE_SNAPSHOT)
    try:
        # Room for the listing and two dataset lookups or one account (two requests each), not all.
        _hub_budget(3, server.server_port)
        first = Path(run_pipeline({"num_models": 5, "ancestor_generations": 0}))
        api_first = server.stats["api"]
        deferred = [w for w in read_jsonl(first / "warnings.jsonl") if w.get("deferred")]
        queued = {name: read_json(data / "hf" / "state" / f"deferred_{name}.json", {}) for name in ("accounts", "datasets")}
        accounts = sorted(queued["accounts"])

        _hub_budget(1_000, server.server_port)  # a later window, with room
        second = Path(run_pipeline({"num_models": 5, "ancestor_generations": 0}))
    finally:
        server.shutdown()
        server.server_close()

    assert api_first <= 3  # never more than the window allows
    assert deferred and {w["key"] for w in deferred} == {k for q in queued.values() for k in q}
    assert read_json(first / "loading" / "report.json")["models_loaded"] == 5  # the models still load, linked to stubs
    assert accounts, queued
    iris = [f"https://huggingface.co/{name}" for name in accounts]
    # The second run has no model to transform (all unchanged), yet completes what the first deferred.
    assert read_json(second / "extraction" / "SUCCESS.json")["models"] == 0
    assert all(read_json(data / "hf" / "state" / f"deferred_{name}.json") == {} for name in ("accounts", "datasets"))
    nodes = query(stores, "MATCH (a:Resource) WHERE a.uri IN $iris RETURN a.uri AS uri, labels(a) AS labels, a.schema__name AS name",
                  iris=iris)
    assert len(nodes) == len(iris)
    assert all({"schema__Organization", "schema__Person"} & set(n["labels"]) for n in nodes), nodes
    links = query(stores, "MATCH (m:fair4ml__MLModel)-[:fair4ml__sharedBy]->(a) WHERE a.uri IN $iris RETURN count(*) AS c", iris=iris)
    assert links[0]["c"] >= len(iris)  # the models link to the completed nodes: the same IRIs


def test_arxiv_openml_and_bioimageio_requests_are_counted_in_their_shared_budgets(data_root, tmp_path):
    """Every request of arXiv's, OpenML's and the zoo's clients waits for room in the budget of its
    API on the data root: arXiv's one request per 3 s holds across clients (two tasks, two DAGs)."""
    from mlentory.enrichment.arxiv_papers import ArxivHook, fetch_articles
    from mlentory.sources.bioimageio.hook import BioImageIOHook
    from mlentory.sources.openml.hook import OpenMLHook

    server = start_replay(FIXTURE_SNAPSHOT)
    try:
        first, second = ArxivHook().get_conn(), ArxivHook().get_conn()
        assert fetch_articles(first, ["2101.00001"]).keys() == {"2101.00001"}
        started = time.monotonic()
        assert fetch_articles(second, ["2102.00002"]).keys() == {"2102.00002"}
        waited = time.monotonic() - started
        flows = list(OpenMLHook(tmp_path / "openml-cache").get_conn().flow_listing())
        zoo = BioImageIOHook().get_conn()
        items = zoo.index()
        zoo.close()
    finally:
        server.shutdown()
        server.server_close()
    assert waited >= 2.0  # the second client's request waited for the first's turn to pass
    budgets = data_root / "budget"
    assert sum(count for _, count in read_json(budgets / "arxiv.json")) == 1  # the second; the first has left the window
    assert flows and sum(count for _, count in read_json(budgets / "openml.json")) == server.stats["openml"]
    assert items and sum(count for _, count in read_json(budgets / "bioimageio.json")) == server.stats["bioimageio"] >= 1


def test_many_dataset_lookups_are_answered_by_the_dataset_listing(stores, tmp_path, monkeypatch):
    """From ``DATASET_LISTING_FROM`` datasets to look up on, one run reads the Hub's expanded dataset
    listing (a request per page) instead of one request per dataset, and knows the same about them."""
    from mlentory.sources.huggingface import extraction

    conf = {"num_models": 5, "model_ids": ["acme-ai/vision-det"], "ancestor_generations": 2}
    server = start_replay(FIXTURE_SNAPSHOT, page_size=2)
    try:
        clear(stores)
        use_data_root(tmp_path / "one_by_one")
        one_by_one = Path(run_pipeline(conf))
        clear(stores)
        use_data_root(tmp_path / "listed")
        monkeypatch.setattr(extraction, "DATASET_LISTING_FROM", 1)
        listed = Path(run_pipeline(conf))
    finally:
        server.shutdown()
        server.server_close()

    def datasets_requests(run_folder: Path) -> int:
        return sum(read_json(path)["requests"].get("huggingface_api", 0) for path in (run_folder / "requests").glob("hf_datasets.*.json"))

    asked = read_json(one_by_one / "extraction" / "entities" / "datasets.json")
    assert len(asked) == 4 and all(value["found"] for value in asked.values())
    assert read_json(listed / "extraction" / "entities" / "datasets.json") == asked
    assert datasets_requests(one_by_one) == 4  # one lookup per dataset
    assert datasets_requests(listed) == 3  # the 4 wanted of the fixture's 5 datasets, 2 a page: the last on the third
    assert read_json(listed / "loading" / "report.json")["models_loaded"] == 8
