"""Airflow's distributed setup on this machine: the main job's stack with ``--celery --object-storage``
(real Postgres as the metadata database, real Redis as the broker, the CeleryExecutor and two Celery
workers each on a scratch folder of its own, the data root in an S3-API server; all on 127.0.0.1,
stopped by PID) runs the Hub's chain, cascading through the Assets, with the tasks spread over both
workers, the run folders and the state in object storage and the request budgets in Redis; the
graph and the index hold the models. The stack is started by the scale benchmark's Airflow mode
(``benchmarks/hub_chain.py --airflow``), whose report of each DAG run, task and component is checked
on the same run: one stack for both."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT, forget_attached_stores

pytestmark = pytest.mark.system  # the Airflow database, servers or a whole stack: not in the fast lane

MODELS = 12


@pytest.mark.timeout(1200)
def test_the_chain_runs_on_two_celery_workers_with_postgres_and_redis(tmp_path, monkeypatch):
    import httpx
    import redis
    from elasticsearch import Elasticsearch
    from neo4j import GraphDatabase

    from devstack import servers
    from mlentory.pipeline import storage

    local = tmp_path / "local"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "HF_ENDPOINT"))}
    env["MLENTORY_LOCAL_DIR"] = str(local)
    command = [sys.executable, str(ROOT / "scripts" / "localstack.py")]
    started: list[int] = []
    try:
        # The stack is started by the scale benchmark's Airflow mode, which also reports each DAG run,
        # task and component (one stack for both checks): synthetic models from the dump, left running.
        bench = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "hub_chain.py"), "--models", str(MODELS), "--from-dump",
                                "--airflow", "--celery", "--object-storage", "--stack-dir", str(local), "--keep-stack",
                                "--results-json", str(tmp_path / "figures.json")],
                               env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
        assert bench.returncode == 0, bench.stdout[-4000:] + bench.stderr[-4000:]
        check_the_benchmark_report(bench.stdout)
        # The figures --all-targets composes: the chain, and Airflow's own share of the run's CPU.
        figures = json.loads((tmp_path / "figures.json").read_text())
        assert figures["loaded"] == MODELS and figures["chain_seconds"] > 0 and figures["task_instances"] > 20, figures
        assert 0 < figures["airflow_cpu_seconds"] < figures["cpu_seconds"] and 0 < figures["tasks_cpu_seconds"] < figures["cpu_seconds"], figures
        started = [int(path.read_text()) for path in (local / "pids").glob("*.pid")]
        names = {path.stem for path in (local / "pids").glob("*.pid")}
        assert {"postgres", "redis", "s3", "worker1", "worker2", "scheduler", "api-server"} <= names
        ports = json.loads((local / "ports.json").read_text())
        secrets = {name: (local / "secrets" / name).read_text().strip() for name in ("airflow_admin_password", "graph_password", "redis_password")}
        with httpx.Client(base_url=f"http://127.0.0.1:{ports['airflow']}", timeout=30) as client:
            token = client.post("/auth/token", json={"username": "admin", "password": secrets["airflow_admin_password"]}).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            ran_on: Counter[str] = Counter()
            for dag_id in ("hf_extraction", "hf_transformation", "hf_loading"):
                runs = client.get(f"/api/v2/dags/{dag_id}/dagRuns").json()["dag_runs"]
                assert runs and all(run["state"] == "success" for run in runs), runs
                for run in runs:
                    instances = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances",
                                           params={"limit": 1000}).json()["task_instances"]
                    ran_on.update(instance["hostname"] for instance in instances if instance["state"] == "success")
        # Both workers ran tasks of the chain (each names itself in the task instances it runs).
        assert set(ran_on) == {"worker1", "worker2"}, ran_on
        assert min(ran_on.values()) >= 3, ran_on
        # The request budgets are in Redis, not in the data root.
        keys = redis.Redis(port=ports["redis"], password=secrets["redis_password"], db=1).keys("mlentory:budget:*")
        assert b"mlentory:budget:huggingface_api" in keys
        assert not (local / "data" / "budget").exists()
        with GraphDatabase.driver(f"bolt://127.0.0.1:{ports['bolt']}", auth=("root", secrets["graph_password"])) as driver, \
                driver.session() as session:
            described = session.run("MATCH (m:fair4ml__MLModel) WHERE m.mlentory__sourceSha IS NOT NULL RETURN count(m) AS c").single()["c"]
        assert described == MODELS
        assert Elasticsearch(f"http://127.0.0.1:{ports['es']}").count(index="mlentory_models")["count"] == MODELS
        # The run folder and the state are in object storage, and nothing of them on a worker's disk.
        monkeypatch.setenv("AIRFLOW_CONN_MLENTORY_STORAGE", json.dumps(servers.s3_connection(ports["s3"])))
        root = storage.storage_path("s3://mlentory/data")
        stored = {name.removeprefix("mlentory/data/") for name in root.fs.find(root.path)}
        runs = {name.split("/")[2] for name in stored if name.startswith("hf/runs/")}
        assert len(runs) == 1, runs
        run = f"hf/runs/{runs.pop()}"
        assert {f"{run}/{stage}/SUCCESS.json" for stage in ("extraction", "transformation", "loading")} <= stored
        assert {f"{run}/loading/report.json", f"{run}/errors.jsonl"} <= stored
        assert any(name.startswith("hf/history/") for name in stored) and any(name.startswith(f"{run}/requests/") for name in stored)
        # The revisions loaded, in their shards (recorded by the history tasks on both workers).
        shards = sorted(name for name in stored if re.fullmatch(r"hf/state/loaded_revisions/\d\d\.json", name))
        assert sum(len(storage.read_json_at("s3://mlentory/data", name)) for name in shards) == MODELS
        assert not any(name.startswith(f"{run}/loading/revisions/") for name in stored)  # the spill, recorded and removed
        assert not (local / "data").exists()
        assert [path for path in (local / "scratch").rglob("*") if path.is_file()] == []
    finally:
        down = subprocess.run([*command, "down"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
        forget_attached_stores()  # the store attached for this stack's S3 server, now stopped
    assert down.returncode == 0, down.stdout + down.stderr
    assert list((local / "pids").glob("*.pid")) == []
    alive = []
    for pid in started:
        try:
            os.kill(pid, 0)
            alive.append(pid)
        except ProcessLookupError:
            pass
    assert alive == [], f"left running: {alive}"
    groups = [line for line in subprocess.run(["ps", "-eo", "pid,pgid,args"], capture_output=True, text=True).stdout.splitlines()[1:]
              if line.split()[1] in {str(pid) for pid in started}]
    assert groups == [], groups
    assert Path(local / "postgres" / "data").exists()  # the database's files stay, as a deployment's would


def check_the_benchmark_report(out: str) -> None:
    """The benchmark's Airflow mode: each DAG run's and task's time, the whole chain, the requests,
    and the CPU of every component it started (the two Celery workers' tasks among their children)."""
    assert "hf_loading succeeded" in out and f"models_loaded {MODELS}, models_failed 0" in out, out
    for dag_id in ("hf_extraction", "hf_transformation", "hf_loading"):
        assert re.search(rf"^{dag_id}\s+1\s+\d+\.\d", out, re.MULTILINE), out
    assert re.search(r"^  hf_load_models\s+\d+\s+\d+\.\d", out, re.MULTILINE), out
    assert re.search(r"^whole chain \(first start to last end\)\s+\d+\.\d", out, re.MULTILINE), out
    assert re.search(rf"^models loaded: {MODELS} of {MODELS}; Hub API requests \d+", out, re.MULTILINE), out
    for component in ("scheduler", "dag-processor", "api-server", "triggerer", "worker1", "worker2", "postgres", "redis", "s3"):
        assert re.search(rf"^  {component}\s+\d+\.\d\s+\d+\.\d", out, re.MULTILINE), out
