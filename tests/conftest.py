"""Test harness: an isolated Airflow home and database, the stand-in stores and a Hub replay server.

Airflow reads its configuration at import time, so the environment is set before anything imports
it. Every test session gets its own database: asset events written here never trigger real DAGs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_SNAPSHOT = ROOT / "tests" / "fixtures" / "hub_snapshot"
SHARED_REALDATA = ROOT.parent / "shared" / "realdata"

_home = Path(tempfile.mkdtemp(prefix="mlentory-test-airflow-"))
os.environ.update({
    "AIRFLOW_HOME": str(_home),
    "AIRFLOW_CONFIG": str(ROOT / "airflow.cfg"),
    "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_home}/airflow.db",
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(_home / "logs"),
    "AIRFLOW_VAR_MLENTORY_DATA_ROOT": str(_home / "data"),
})
for path in (ROOT, ROOT / "plugins", ROOT / "dags"):  # devstack/, mlentory, the DAG files
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from devstack import servers  # noqa: E402
from devstack.replay.server import ReplayServer  # noqa: E402

# The modules that start a whole stack (Airflow's components, the stores, the replay; Celery workers),
# with their place in the run: first and last (``pytest_collection_modifyitems``).
STACK_MODULES = {"test_local_stack.py": 0, "test_celery_stack.py": 2}
# Fixtures that start servers the fast lane does without: the stand-in stores, Redis.
SYSTEM_FIXTURES = frozenset({"stores", "redis_port"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "system: needs the Airflow database, the stand-in stores or a whole stack (not in the fast lane)")


def pytest_unconfigure(config: pytest.Config) -> None:
    """This process's Airflow home (database, task logs, data root) removed when its tests end, unless
    ``MLENTORY_KEEP_TEST_HOME`` is set (to read a failed run's task logs)."""
    if not os.environ.get("MLENTORY_KEEP_TEST_HOME"):
        shutil.rmtree(_home, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by the marks added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that uses the stand-in stores (directly or through a fixture) is a system test, as is
    every test of a module marked so (DAG runs, the stacks, the browser): ``-m "not system"`` is the
    fast lane (``./scripts/test.sh --fast``)."""
    for item in items:
        if SYSTEM_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.system)
    # Under pytest-xdist (``scripts/test.sh``: ``--dist loadfile --no-loadscope-reorder``) a module
    # runs whole in one worker, in this order: the main job's stack first, the Celery stack last, so
    # that the two whole stacks (many processes each) never run beside each other, which took twice
    # as long; by default xdist ran modules with the most tests first, the stacks (one test each) last.
    items.sort(key=lambda item: STACK_MODULES.get(item.path.name, 1))  # stable: the rest keep their order


def pytest_collection_finish(session: pytest.Session) -> None:
    """The test session's Airflow database, migrated once before any test runs, when a system test
    was selected: the fast lane never pays for a migration. In a subprocess, so this process imports
    Airflow only once, configured."""
    if any(item.get_closest_marker("system") for item in session.items):
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, env=os.environ.copy(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _connection(name: str, **fields: object) -> None:
    os.environ[f"AIRFLOW_CONN_{name.upper()}"] = json.dumps(fields)


@dataclass
class Stores:
    bolt_port: int
    es_port: int
    password: str

    def driver(self):  # noqa: ANN201
        from neo4j import GraphDatabase

        return GraphDatabase.driver(f"bolt://127.0.0.1:{self.bolt_port}", auth=("root", self.password))

    def es(self):  # noqa: ANN201
        from elasticsearch import Elasticsearch

        return Elasticsearch(f"http://127.0.0.1:{self.es_port}")


@pytest.fixture(scope="session")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    """ArcadeDB (Bolt) and noida-db (Elasticsearch API) on free loopback ports, stopped by PID."""
    workdir = tmp_path_factory.mktemp("stores")
    password = "test-" + os.urandom(8).hex()
    graph, bolt, _ = servers.start_arcadedb_on_free_ports(workdir / "arcadedb", password)
    index, es_port = servers.start_noida_on_free_port(workdir / "noida")
    _connection("neo4j_default", conn_type="neo4j", host="127.0.0.1", port=bolt, login="root", password=password)
    _connection("elasticsearch_default", conn_type="elasticsearch", host="127.0.0.1", port=es_port, schema="http")
    try:
        yield Stores(bolt, es_port, password)
    finally:
        servers.stop(graph.pid)
        servers.stop(index.pid)


def query(stores: Stores, cypher: str, **params: object) -> list[dict]:
    """Rows of a Cypher query against the test graph."""
    with stores.driver() as driver, driver.session() as session:
        return session.run(cypher, **params).data()


def clear(stores: Stores) -> Stores:
    with stores.driver() as driver, driver.session() as session:
        session.run("MATCH (n) DETACH DELETE n").consume()
    stores.es().indices.delete(index="mlentory_models,mlentory_evaluations", ignore_unavailable=True)
    return stores


@pytest.fixture
def empty_stores(stores: Stores) -> Stores:
    return clear(stores)


@pytest.fixture(autouse=True)
def hub_client_of_no_connection() -> None:
    """huggingface_hub's HTTP client is made by a process-wide factory, which the Hub's hook sets up
    with its connection's origins: one built by an earlier test for its replay's port must not refuse
    the server a later test gives a ``HubClient`` of its own."""
    from mlentory.sources.huggingface.hub import use_http_timeouts

    use_http_timeouts()


def start_replay(snapshot: Path, page_size: int = 50) -> ReplayServer:
    server = ReplayServer(snapshot, page_size=page_size)
    server.start_in_thread()
    _connection("huggingface_default", conn_type="generic", host="127.0.0.1", port=server.server_port, schema="http")
    _connection("arxiv_default", conn_type="http", host="127.0.0.1", port=server.server_port, schema="http")
    _connection("openml_default", conn_type="http", host="127.0.0.1", port=server.server_port, schema="http")
    _connection("bioimageio_default", conn_type="http", host="127.0.0.1", port=server.server_port, schema="http")
    return server


@pytest.fixture
def hub_replay() -> Iterator[ReplayServer]:
    """The project's recorded Hub snapshot served on loopback (fresh counters per test)."""
    server = start_replay(FIXTURE_SNAPSHOT, page_size=3)
    yield server
    server.shutdown()
    server.server_close()


def use_data_root(path: Path) -> Path:
    os.environ["AIRFLOW_VAR_MLENTORY_DATA_ROOT"] = str(path)
    return path


def fresh_world(stores: Stores, tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """Empty stores, a data root of its own, and a copy of the fixture snapshot to add records to;
    returns the copy."""
    clear(stores)
    use_data_root(tmp_path_factory.mktemp(name) / "data")
    snapshot = tmp_path_factory.mktemp(f"{name}-snapshot") / "snapshot"
    shutil.copytree(FIXTURE_SNAPSHOT, snapshot)
    return snapshot


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return use_data_root(tmp_path / "data")


def forget_attached_stores() -> None:
    """Airflow keeps one attached object store per connection id and process: a store attached for
    an earlier test's S3 server must not answer for a later one's."""
    from airflow.sdk.io import store

    store._STORE_CACHE.clear()


@pytest.fixture
def redis_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """Debian's redis-server on loopback (stopped by PID), named by the ``mlentory_state`` connection."""
    server = shutil.which("redis-server")
    assert server, "redis-server is not installed (scripts/test.sh installs Debian's)"
    port = servers.free_port()
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        servers.wait_for_port(port, timeout=30, process=process)
        monkeypatch.setenv("AIRFLOW_CONN_MLENTORY_STATE", json.dumps({"conn_type": "redis", "host": "127.0.0.1", "port": port}))
        yield port
    finally:
        servers.stop(process.pid)


def evaluation_values(stores: Stores) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Every model's metric values as the graph holds them and as the search index holds them:
    ``{model IRI: sorted ["<evaluation IRI> <metric> <value>", ...]}`` each."""
    graph: dict[str, list[str]] = {}
    for row in query(stores, "MATCH (m:fair4ml__MLModel)-[:fair4ml__hasEvaluation]->(e)-[:fair4ml__evaluationMetrics]->(v) "
                             "RETURN m.uri AS m, e.uri AS e, v.schema__name AS metric, v.schema__value AS value"):
        graph.setdefault(row["m"], []).append(f"{row['e']} {row['metric']} {row['value']}")
    es = stores.es()
    es.indices.refresh(index="mlentory_models")
    index: dict[str, list[str]] = {}
    for hit in es.search(index="mlentory_models", size=10_000, query={"match_all": {}})["hits"]["hits"]:
        for value in hit["_source"].get("evaluation_values") or []:
            # value_text: the value as loaded (the local Elasticsearch stand-in returns some doubles
            # of _source a last bit off: 0.15542682926829265 comes back ...63; Elasticsearch does not).
            index.setdefault(hit["_source"]["iri"], []).append(f"{value['evaluation']} {value['metric']} {value['value_text']}")
    return {k: sorted(v) for k, v in graph.items()}, {k: sorted(v) for k, v in index.items()}
