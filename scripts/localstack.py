"""The README's main job: start the local stack, run the HuggingFace pipeline on a recorded Hub
snapshot through Airflow's REST API, print what landed in the graph and the index.

    python scripts/servers.py up [--models N] [--snapshot fixture|realdata|PATH]
    python scripts/servers.py down

Everything it starts binds to 127.0.0.1, runs in its own process group, and is recorded in
.local/pids/ so that ``down`` stops exactly those processes.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Where the stack keeps its state, logs, secrets and PIDs (a test points it elsewhere).
LOCAL = Path(os.environ.get("MLENTORY_LOCAL_DIR", ROOT / ".local")).resolve()
PIDS = LOCAL / "pids"
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]  # devstack/ and mlentory

from devstack import servers  # noqa: E402

AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
SOURCE_KEYS = ("hf", "openml", "ai4life")
SHARED_REALDATA = ROOT.parent / "shared" / "realdata"

DEFAULT_MODELS = 50  # of OpenML and the zoo, when --models is not given


def say(message: str) -> None:
    print(f"[mlentory] {message}", flush=True)


def record_pid(name: str, pid: int) -> None:
    PIDS.mkdir(parents=True, exist_ok=True)
    (PIDS / f"{name}.pid").write_text(str(pid))


def running_pids() -> dict[str, int]:
    alive = {}
    for path in sorted(PIDS.glob("*.pid")) if PIDS.exists() else []:
        pid = int(path.read_text())
        try:
            os.kill(pid, 0)
            alive[path.stem] = pid
        except ProcessLookupError:
            path.unlink()
    return alive


CELERY_WORKERS = ("worker1", "worker2")
# The stack's Airflow home and configuration, which this process reads too (the storage, the pools).
AIRFLOW_HOME = LOCAL / "airflow"
AIRFLOW_CONFIG = ROOT / "airflow.cfg"
# The bucket of the data root with --object-storage.
S3_BUCKET = "mlentory"


def down() -> None:
    pids = running_pids()
    for name in ["replay", *AIRFLOW_COMPONENTS, *CELERY_WORKERS, "arcadedb", "noida", "postgres", "redis", "s3"]:
        if name in pids:
            servers.stop(pids[name])
            (PIDS / f"{name}.pid").unlink(missing_ok=True)
            say(f"stopped {name} (pid {pids[name]})")
    if not pids:
        say("nothing was running")


def secret(name: str, nbytes: int) -> str:
    path = LOCAL / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text()


def pick_port(preferred: int) -> int:
    import socket

    with socket.socket() as sock:
        return preferred if sock.connect_ex(("127.0.0.1", preferred)) != 0 else servers.free_port()


def snapshot_dir(choice: str) -> Path:
    if choice == "fixture":
        return ROOT / "tests" / "fixtures" / "hub_snapshot"
    if choice == "realdata":
        from devstack.replay.recordings import build_snapshot

        target = LOCAL / "realdata-snapshot"
        if not target.exists():
            built = build_snapshot(SHARED_REALDATA, target)
            say(f"built a snapshot from {SHARED_REALDATA}: {built}")
        if not (target / "openml").exists() and (SHARED_REALDATA / "openml" / "openml-r").is_dir():
            (target / "openml").symlink_to(SHARED_REALDATA / "openml" / "openml-r")  # OpenML's own cache layout: served as it is
        zoo = SHARED_REALDATA / "bioimageio" / "collection-gh-pages-hypha"
        if not (target / "bioimageio").exists() and zoo.is_dir():
            (target / "bioimageio").symlink_to(zoo)  # the collection's gh-pages layout: served as it is
        return target
    return Path(choice).resolve()


def celery_env(ports: dict[str, int]) -> dict[str, str]:
    """Airflow's distributed setup: the CeleryExecutor, Postgres as the metadata database and the
    Celery results, Redis as the broker and for the shared request budgets (database 1)."""
    database, broker = secret("postgres_password", 16), secret("redis_password", 16)
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://airflow:{database}@127.0.0.1:{ports['postgres']}/airflow",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://airflow:{database}@127.0.0.1:{ports['postgres']}/airflow",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://:{broker}@127.0.0.1:{ports['redis']}/0",
        "AIRFLOW_CONN_MLENTORY_STATE": json.dumps({"conn_type": "redis", "host": "127.0.0.1", "port": ports["redis"], "password": broker,
                                                   "extra": {"db": 1}}),
    }


def airflow_env(ports: dict[str, int], password: str, hub_api_budget: int | None = None) -> dict[str, str]:
    home = AIRFLOW_HOME
    home.mkdir(parents=True, exist_ok=True)
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({"admin": secret("airflow_admin_password", 12)}))
    passwords.chmod(0o600)
    conn = lambda **fields: json.dumps(fields)  # noqa: E731
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW_CONFIG": str(AIRFLOW_CONFIG),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        # SQLite lets one writer at a time, and the api-server can hold its lock while another of its
        # own requests waits for it (seen on task starts sent twice): pysqlite's 5 s wait ends that
        # with a 500 "Database error", and a client sends the call again (`api`). A longer wait only
        # stalls every writer longer (30 s tried: each start and trigger took 30 s, then failed).
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(ports["airflow"]),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{ports['airflow']}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{ports['airflow']}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secret("jwt_secret", 48),  # 64 characters
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_VAR_MLENTORY_DATA_ROOT": str(LOCAL / "data"),
        # The main job triggers each source itself: no scheduled runs beside its own.
        **{f"MLENTORY_SCHEDULE_{key.upper()}": "none" for key in SOURCE_KEYS},
        "AIRFLOW_CONN_NEO4J_DEFAULT": conn(conn_type="neo4j", host="127.0.0.1", port=ports["bolt"], login="root", password=password),
        "AIRFLOW_CONN_ELASTICSEARCH_DEFAULT": conn(conn_type="elasticsearch", host="127.0.0.1", port=ports["es"], schema="http"),
        "AIRFLOW_CONN_HUGGINGFACE_DEFAULT": conn(conn_type="generic", host="127.0.0.1", port=ports["replay"], schema="http",
                                                 extra={"api_requests": hub_api_budget} if hub_api_budget else {}),
        "AIRFLOW_CONN_ARXIV_DEFAULT": conn(conn_type="http", host="127.0.0.1", port=ports["replay"], schema="http"),
        "AIRFLOW_CONN_OPENML_DEFAULT": conn(conn_type="http", host="127.0.0.1", port=ports["replay"], schema="http"),
        "AIRFLOW_CONN_BIOIMAGEIO_DEFAULT": conn(conn_type="http", host="127.0.0.1", port=ports["replay"], schema="http"),
        # huggingface_hub's own setting, for anything that uses the library's defaults.
        "HF_ENDPOINT": f"http://127.0.0.1:{ports['replay']}",
    }


def start(name: str, command: list[str], env: dict[str, str], port: int | None = None) -> int:
    logs = LOCAL / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    record_pid(name, process.pid)
    if port:
        servers.wait_for_port(port, timeout=180, process=process)
    say(f"started {name} (pid {process.pid}{f', 127.0.0.1:{port}' if port else ''}); log: {logs / (name + '.log')}")
    return process.pid


def api(client, method: str, path: str, attempts: int = 6, accept: tuple[int, ...] = (), **kwargs):  # noqa: ANN001, ANN201
    """A REST call, tried again while the server answers 5xx or does not answer in time (the local
    stack's SQLite database is locked by the DAG processor for a moment now and then; a busy machine
    answers slowly). Every call made through it is idempotent: a trigger names its own run id.
    A status in ``accept`` is returned as it is (its JSON), not raised."""
    import httpx

    for attempt in range(1, attempts + 1):
        try:
            response = client.request(method, path, **kwargs)
        except httpx.TransportError as exc:  # a timeout, a dropped connection
            if attempt == attempts:
                raise
            say(f"{method} {path}: {exc.__class__.__name__}; trying again")
        else:
            if response.status_code < 500 or attempt == attempts:
                break
            say(f"{method} {path} answered {response.status_code}; trying again")
        time.sleep(min(2 * attempt, 10))
    if response.status_code in accept:
        return response.json() if response.content else None
    response.raise_for_status()
    return response.json() if response.content else None


def trigger(client, dag_id: str, conf: dict) -> dict:  # noqa: ANN001
    """Trigger ``dag_id`` under a run id of our own choosing: a call tried again after a 5xx or a
    timeout whose first try did reach the server finds the run it made (409) instead of making two."""
    run_id = f"mlentory_main_{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}_{secrets.token_hex(4)}"
    made = api(client, "POST", f"/api/v2/dags/{dag_id}/dagRuns", accept=(409,),
               json={"dag_run_id": run_id, "logical_date": None, "conf": conf})
    if made is None or made.get("dag_run_id") != run_id:  # 409: made by an earlier try
        made = api(client, "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
    return made


def wait_for(what: str, check, timeout: float, interval: float = 2.0):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


class Follower:
    """Waits for what the job follows while Airflow works: a task of the stack starting, finishing or
    beating (its ``updated_at``) is progress, however long a stage takes on a busy machine. It gives
    up on a stack component that stopped, on ``stall_after`` seconds without any task's progress, or
    ``give_up_after`` seconds after it began (a failed run is its caller's ``check`` to raise)."""

    def __init__(self, client, stall_after: float, give_up_after: float) -> None:  # noqa: ANN001 - an httpx.Client with the token
        self.client = client
        self.stall_after = stall_after
        self.deadline = time.monotonic() + give_up_after
        self.components = set(running_pids())
        self.last_progress = time.monotonic()
        self.since = datetime.now(UTC)

    def progressed(self) -> bool:
        """Whether a task instance of any DAG run changed since the last look."""
        asked = datetime.now(UTC)
        changed = api(self.client, "GET", "/api/v2/dags/~/dagRuns/~/taskInstances",
                      params={"updated_at_gte": self.since.isoformat(), "limit": 1})["total_entries"]
        self.since = asked
        return bool(changed)

    def wait(self, what: str, check, interval: float = 3.0):  # noqa: ANN001, ANN201
        while True:
            result = check()
            if result:
                return result
            now = time.monotonic()
            stopped = sorted(self.components - set(running_pids()))
            if stopped:
                raise SystemExit(f"[mlentory] {', '.join(stopped)} stopped while waiting for {what}: see {LOCAL / 'logs'}")
            if self.progressed():
                self.last_progress = now
            elif now - self.last_progress > self.stall_after:
                raise SystemExit(f"[mlentory] no task started, finished or beat for {self.stall_after:.0f} s while waiting "
                                 f"for {what}: the stack is stalled (see the UI and {LOCAL / 'logs'})")
            if now > self.deadline:
                raise SystemExit(f"[mlentory] gave up waiting for {what}: the job's limit has passed (--give-up-hours)")
            time.sleep(interval)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def runs_seconds(dag_runs: list[dict]) -> float:
    """How long a stage's DAG runs took: from the first one's start to the last one's end."""
    return (max(moment(r["end_date"]) for r in dag_runs) - min(moment(r["start_date"]) for r in dag_runs)).total_seconds()


def what_went_wrong(run_folder: str, shown: int = 6) -> str:
    """The run's errors and warnings by reason (from its report), and where to read them."""
    from mlentory.pipeline import storage

    report = storage.read_json_at(run_folder, "report.json") or {}
    stages = report.get("stages") or {}
    where = run_folder.rstrip("/")
    lines = [f"run folder {where}; its report {where}/report.md"]
    for kind in ("errors", "warnings"):
        counted = Counter({f"{stage}: {reason}": count for stage, data in stages.items()
                           for reason, count in (data.get(f"{kind}_by_reason") or {}).items()})
        if not counted:
            lines.append(f"no {kind}")
            continue
        lines.append(f"{kind} {sum(counted.values())} ({where}/{kind}.jsonl), by reason:")
        top = counted.most_common(shown)
        lines += [f"  {count:>5}  {reason}" for reason, count in top]
        if len(counted) > shown:
            lines.append(f"         ... and {len(counted) - shown} more reasons ({sum(counted.values()) - sum(count for _, count in top)} records)")
    return "".join(f"\n    {line}" for line in lines)


def keep_library_logs_in_a_file() -> Path:
    """The libraries' log lines (Airflow's, the clients' INFO, huggingface_hub's warnings) go to
    ``.local/logs/main-job.log``: the job's own output is its ``say`` lines and its summary. Airflow
    points the root logger at stdout when it is imported, and huggingface_hub gives its logger a
    handler of its own: both are imported first, then every console handler is taken away."""
    import logging

    import airflow  # noqa: F401
    import huggingface_hub.utils.logging  # noqa: F401 - the package configures its logger when this is first imported

    for logger in [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]:
        for console in [h for h in logger.handlers if type(h) is logging.StreamHandler]:
            logger.removeHandler(console)
        logger.propagate = True
    path = LOCAL / "logs" / "main-job.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
        existing.close()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    return path


def up(args: argparse.Namespace) -> None:
    import httpx

    if running_pids():
        raise SystemExit("[mlentory] the local stack is already running; stop it first: ./scripts/stop.sh")
    # Everything the stack writes (secrets, logs, data, the stores' files) is readable by its owner only.
    os.umask(0o077)
    # The libraries' log goes to a file before the snapshot is built (that reads cards with
    # huggingface_hub, which logs); Airflow, imported for it, reads the stack's configuration.
    os.environ.update(AIRFLOW_HOME=str(AIRFLOW_HOME), AIRFLOW_CONFIG=str(AIRFLOW_CONFIG))
    say(f"the libraries' log lines go to {keep_library_logs_in_a_file()}")
    password = secret("graph_password", 16)
    snapshot = snapshot_dir(args.snapshot)

    graph, bolt_port, arcade_http_port = servers.start_arcadedb_on_free_ports(LOCAL / "arcadedb", password)
    record_pid("arcadedb", graph.pid)
    say(f"started the graph store (ArcadeDB over Bolt, pid {graph.pid}, bolt://127.0.0.1:{bolt_port})")
    index, es_port = servers.start_noida_on_free_port(LOCAL / "noida")
    replay_port, = servers.free_ports(1)
    ports = {"airflow": pick_port(8080), "bolt": bolt_port, "arcade_http": arcade_http_port, "es": es_port, "replay": replay_port}
    # Where each server listens, for tools that follow the stack (the benchmark's Airflow mode).
    (LOCAL / "ports.json").write_text(json.dumps(ports))
    record_pid("noida", index.pid)
    say(f"started the search index (Elasticsearch API, pid {index.pid}, http://127.0.0.1:{ports['es']})")
    if args.celery:
        ports["postgres"], ports["redis"] = servers.free_ports(2)
        postgres = servers.start_postgres(LOCAL / "postgres", ports["postgres"], secret("postgres_password", 16))
        record_pid("postgres", postgres.pid)
        say(f"started Postgres (pid {postgres.pid}, 127.0.0.1:{ports['postgres']})")
        redis = servers.start_redis(LOCAL / "redis", ports["redis"], secret("redis_password", 16))
        record_pid("redis", redis.pid)
        say(f"started Redis (pid {redis.pid}, 127.0.0.1:{ports['redis']})")
        (LOCAL / "ports.json").write_text(json.dumps(ports))
    env = {**airflow_env(ports, password, args.hub_api_budget), **(celery_env(ports) if args.celery else {})}
    if args.object_storage:
        # The data root in object storage: an S3-API server on loopback; the workers share no disk.
        ports["s3"], = servers.free_ports(1)
        s3 = servers.start_s3(LOCAL / "s3", ports["s3"])
        record_pid("s3", s3.pid)
        (LOCAL / "ports.json").write_text(json.dumps(ports))
        os.environ["AIRFLOW_CONN_MLENTORY_STORAGE"] = json.dumps(servers.s3_connection(ports["s3"]))
        from mlentory.pipeline import storage

        storage.storage_path(f"s3://{S3_BUCKET}").fs.mkdir(S3_BUCKET)
        env.update({"AIRFLOW_CONN_MLENTORY_STORAGE": os.environ["AIRFLOW_CONN_MLENTORY_STORAGE"],
                    "AIRFLOW_VAR_MLENTORY_DATA_ROOT": f"s3://{S3_BUCKET}/data"})
        say(f"started the object storage (an S3-API server, pid {s3.pid}, http://127.0.0.1:{ports['s3']}); data root s3://{S3_BUCKET}/data")
    python = sys.executable
    # Listing pages of the Hub's own size (up to 1,000 models a page).
    start("replay", [python, "-m", "devstack.replay.server", "--snapshot", str(snapshot), "--port", str(ports["replay"]), "--page-size", "1000"],
          {**env, "PYTHONPATH": str(ROOT)}, ports["replay"])
    say("migrating the Airflow database ...")
    subprocess.run([python, "-m", "airflow", "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    for component in AIRFLOW_COMPONENTS:
        # One host serves the task logs from disk: the scheduler and triggerer start no log servers
        # (they would listen on every interface).
        flags = ["--skip-serve-logs"] if component in ("scheduler", "triggerer") else []
        start(component, [python, "-m", "airflow", component, *flags], env, ports["airflow"] if component == "api-server" else None)
    if args.celery:
        # Two Celery workers, each naming itself in the task instances it runs; the logs are read
        # from the shared disk, so no worker serves them.
        for worker in CELERY_WORKERS:
            start(worker, [python, "-m", "airflow", "celery", "worker", "--skip-serve-logs", "--concurrency", "2",
                           "--celery-hostname", f"{worker}@%h"],
                  {**env, "MLENTORY_WORKER_NAME": worker, "AIRFLOW__CORE__HOSTNAME_CALLABLE": "devstack.hostnames.worker_name",
                   "PYTHONPATH": str(ROOT), "MLENTORY_SCRATCH_DIR": str(LOCAL / "scratch" / worker)})

    base = f"http://127.0.0.1:{ports['airflow']}"
    admin_password = secret("airflow_admin_password", 12)
    # A slow answer is waited for (and a call that times out tried again), never the end of the job.
    with httpx.Client(base_url=base, timeout=httpx.Timeout(60, connect=10)) as client:
        token = api(client, "POST", "/auth/token", json={"username": "admin", "password": admin_password})["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        # The pools the API-calling tasks run in: without them, the scheduler never starts those tasks.
        from mlentory.pools import api_pools

        for name, pool in api_pools().items():
            if api(client, "GET", f"/api/v2/pools/{name}", accept=(404,)).get("name") != name:
                api(client, "POST", "/api/v2/pools", accept=(409,), json={"name": name, "slots": pool.slots, "description": pool.description})
        sources = args.sources
        dag_ids = [f"{key}_{stage}" for key in SOURCE_KEYS for stage in ("extraction", "transformation", "loading")]
        for dag_id in dag_ids:
            wait_for(f"DAG {dag_id} to be parsed", lambda d=dag_id: (api(client, "GET", f"/api/v2/dags/{d}", accept=(404,)) or {}).get("dag_id") == d, 180)
            api(client, "PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})

        def run_ids(dag_id: str) -> set[str]:
            runs = api(client, "GET", f"/api/v2/dags/{dag_id}/dagRuns", params={"order_by": "-start_date", "limit": 100})["dag_runs"]
            return {r["dag_run_id"] for r in runs}

        # Runs of an earlier main job are in the same database: follow only the runs this one makes.
        earlier = {dag_id: run_ids(dag_id) for dag_id in dag_ids}
        # --from-dump: the Hub's models from the public dump of model cards (a few requests for any
        # number of models) instead of the API's listing; a later run without it lists what changed.
        # Without --models: every model the Hub's listing names (a later run lists what changed since).
        models = args.models if args.models is not None else DEFAULT_MODELS
        hub_models = ({"num_models": 0, "bootstrap_from_dump": True, "dump_rows": args.models} if args.from_dump
                      else {"num_models": args.models} if args.models is not None else {"num_models": 0, "every_listed_model": True})
        confs = {"hf": {**hub_models, "ancestor_generations": 2, "max_error_rate": 0.2},
                 "openml": {"num_flows": models, "max_error_rate": 0.2},
                 # The fixture's zoo has one description the spec rejects on purpose, of three models.
                 "ai4life": {"num_resources": models, "max_error_rate": 0.4}}
        runs = {}
        for key in sources:
            runs[key] = trigger(client, f"{key}_extraction", confs[key])
            say(f"triggered {key}_extraction ({runs[key]['dag_run_id']}) with conf {json.dumps(confs[key])}; "
                "the assets cascade to transformation and loading")
        # The job waits while Airflow works (a task starts, finishes or beats), however long a stage takes.
        follower = Follower(client, stall_after=args.stall_minutes * 60, give_up_after=args.give_up_hours * 3600)
        # A path, or a URI with the data root in object storage.
        run_folders = {key: follower.wait(f"the {key} extraction's run folder",
                                          lambda k=key: xcom(client, f"{k}_extraction", runs[k]["dag_run_id"], f"{k}_run_folder"))
                       for key in sources}

        def job_runs(key: str, stage: str) -> list[dict]:
            """The stage's DAG runs this job caused: the triggered one, or those its asset events created."""
            dag_id = f"{key}_{stage}"
            if stage == "extraction":
                return [api(client, "GET", f"/api/v2/dags/{dag_id}/dagRuns/{runs[key]['dag_run_id']}")]
            return [r for r in api(client, "GET", f"/api/v2/dags/{dag_id}/dagRuns", params={"order_by": "-start_date", "limit": 100})["dag_runs"]
                    if r["dag_run_id"] not in earlier[dag_id]]

        def finished(key: str, stage: str) -> list[dict] | None:
            """The stage's runs once this job's run folder finished ``stage`` and none of them is still
            going; a failed one ends the job."""
            dag_runs = job_runs(key, stage)
            if any(r["state"] == "failed" for r in dag_runs):
                raise SystemExit(f"[mlentory] {key}_{stage} failed: see the UI at {base} and {LOCAL / 'logs'}")
            settled = dag_runs and all(r["state"] == "success" for r in dag_runs)
            return dag_runs if settled and stage_done(run_folders[key], stage) is not None else None

        durations: dict[str, dict[str, float]] = {key: {} for key in sources}
        for stage in ("extraction", "transformation", "loading"):
            for key in sources:
                dag_runs = follower.wait(f"{key}_{stage} to succeed", lambda k=key, s=stage: finished(k, s))
                durations[key][stage] = runs_seconds(dag_runs)
                durations[key]["end"] = max(moment(r["end_date"]) for r in dag_runs).timestamp()
                say(f"{key}_{stage} succeeded in {durations[key][stage]:.0f} s: {stage_summary(run_folders[key], stage)}")
        for key in sources:
            total = durations[key]["end"] - moment(runs[key]["queued_at"] or runs[key]["run_after"]).timestamp()
            say(f"{key} done: " + ", ".join(f"{stage} {durations[key][stage]:.0f} s" for stage in ("extraction", "transformation", "loading"))
                + f"; {total:.0f} s from its trigger to the end of its loading{what_went_wrong(run_folders[key])}")

    if args.summary:
        summarize(ports, password)
        summarize_leaderboards(ports, password)
        summarize_feed(run_folders)
    # The password stays in its file: a terminal or CI log that keeps stdout must not hold it.
    say(f"Airflow UI: {base}  (user: admin, password in {LOCAL / 'secrets' / 'airflow_admin_password'})")
    say("stop everything with: ./scripts/stop.sh")


def xcom(client, dag_id: str, run_id: str, task_id: str):  # noqa: ANN001, ANN201
    """The task's return value; None until it has one."""
    entry = api(client, "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value", accept=(404,))
    return entry.get("value") if isinstance(entry, dict) and "value" in entry else None


def stage_done(run_folder: str, stage: str) -> dict | None:
    """The summary a stage wrote into the run folder when it finished (None before)."""
    from mlentory.pipeline import storage

    return storage.read_json_at(run_folder, f"{stage}/SUCCESS.json")


def stage_summary(run_folder: str, stage: str) -> str:
    """What a stage did with this job's run folder, from the summary the stage wrote there (after
    the loading, with the source's coverage when the run report states it)."""
    done = stage_done(run_folder, stage)
    keys = {"extraction": ("models", "skipped_unchanged", "cards", "evaluations", "deferred_lookups", "errors", "warnings"),
            "transformation": ("models", "errors"),
            "loading": ("models_loaded", "models_failed", "models_retried_next_run", "errors", "warnings")}[stage]
    summary = f"run folder {run_folder.rstrip('/').rsplit('/', 1)[-1]}: " + ", ".join(f"{key} {done[key]}" for key in keys if key in done)
    return summary + (coverage_summary(run_folder) if stage == "loading" else "")


def coverage_summary(run_folder: str) -> str:
    """The source's coverage from the run report (the Hub's: listed, catalogued, with card text, backlog)."""
    from mlentory.pipeline import storage
    from mlentory.pipeline.report import COVERAGE_LABELS

    coverage = (storage.read_json_at(run_folder, "report.json") or {}).get("source_coverage") or {}
    shown = [f"{label} {coverage[key]:,}" for key, label in COVERAGE_LABELS.items() if isinstance(coverage.get(key), int)]
    return "\n    coverage: " + "; ".join(shown) if shown else ""


def summarize(ports: dict[str, int], password: str) -> None:
    from elasticsearch import Elasticsearch
    from neo4j import GraphDatabase

    with GraphDatabase.driver(f"bolt://127.0.0.1:{ports['bolt']}", auth=("root", password)) as driver, driver.session() as session:
        labels = session.run("MATCH (n:Resource) UNWIND labels(n) AS label WITH label WHERE label <> 'Resource' "
                             "RETURN label, count(*) AS c ORDER BY c DESC, label").data()
        nodes = session.run("MATCH (n:Resource) RETURN count(n) AS c").single()["c"]
        relationships = session.run("MATCH (:Resource)-[r]->() RETURN count(r) AS c").single()["c"]
        lineage = session.run("MATCH (m:fair4ml__MLModel)-[:fair4ml__fineTunedFrom]->(b) "
                              "RETURN m.schema__identifier AS m, b.uri AS b LIMIT 3").data()
        evaluations = session.run(
            "MATCH (m:fair4ml__MLModel)-[:fair4ml__hasEvaluation]->(e)-[:fair4ml__evaluationMetrics]->(v:schema__PropertyValue) "
            "WHERE m.mlentory__source = 'huggingface' "
            "RETURN m.schema__identifier AS m, e.schema__name AS evaluation, v.schema__name AS metric, v.schema__value AS value LIMIT 3").data()
        runs = session.run(
            "MATCH (m:fair4ml__MLModel)-[:fair4ml__hasEvaluation]->(e)-[:fair4ml__evaluationMetrics]->(v:schema__PropertyValue) "
            "WHERE m.mlentory__source = 'openml' AND v.schema__name = 'predictive_accuracy' "
            "RETURN m.schema__name AS m, e.uri AS run, v.schema__value AS value ORDER BY run LIMIT 3").data()
        # What models of two sources share: one node (a language, licence, keyword, person, dataset, paper) for both.
        shared = session.run(
            "MATCH (a:fair4ml__MLModel)-->(e:Resource)<--(b:fair4ml__MLModel) "
            "WHERE a.mlentory__source < b.mlentory__source AND NOT e:fair4ml__MLModel "
            "RETURN e.uri AS uri, e.schema__name AS name, a.mlentory__source AS first, b.mlentory__source AS second, "
            "count(DISTINCT a) AS a, count(DISTINCT b) AS b ORDER BY first, second, a + b DESC, uri").data()
        licence_findings = session.run(
            "MATCH (f:mlentory__LicenceFinding)-[:mlentory__findingFor]->(m:Resource), (f)-[:mlentory__findingBase]->(b:Resource) "
            "RETURN m.schema__identifier AS model, b.uri AS base, f.mlentory__findingRule AS rule, f.schema__description AS why "
            "ORDER BY model, rule LIMIT 3").data()
        shared_kinds = session.run(
            "MATCH (a:fair4ml__MLModel)-->(e:Resource)<--(b:fair4ml__MLModel) "
            "WHERE a.mlentory__source < b.mlentory__source AND NOT e:fair4ml__MLModel "
            "UNWIND [label IN labels(e) WHERE label <> 'Resource'] AS kind "
            "RETURN kind, count(DISTINCT e) AS entities ORDER BY kind").data()
    es = Elasticsearch(f"http://127.0.0.1:{ports['es']}")
    documents = es.count(index="mlentory_models")["count"]
    query = "text classification"
    fields = ["name^2", "description", "intended_use", "ml_task_names.text^3", "keywords.text", "model_category.text"]
    hits = es.search(index="mlentory_models", size=3, query={"multi_match": {"query": query, "fields": fields}})
    apache = es.count(index="mlentory_models", query={"term": {"licenses": "apache-2.0"}})["count"]
    per_source = {b["key"]: b["doc_count"] for b in es.search(index="mlentory_models", size=0, aggs={
        "sources": {"terms": {"field": "source"}}})["aggregations"]["sources"]["buckets"]}
    across = "classification segmentation"
    one_per_source = {source: es.search(index="mlentory_models", size=1, query={"bool": {
        "must": {"multi_match": {"query": across, "fields": fields}}, "filter": {"term": {"source": source}}}})["hits"]["hits"]
        for source in sorted(per_source)}

    print("\n=== MLentory: what the pipelines loaded ===")
    print(f"graph: {nodes} resources, {relationships} relationships")
    for row in labels:
        print(f"  {row['label']:<28} {row['c']}")
    for row in lineage:
        print(f"  fine-tuned: {row['m']} -> {row['b']}")
    for row in evaluations:
        print(f"  evaluation: {row['m']}: {row['evaluation']}: {row['metric']} = {row['value']}")
    print(f"index 'mlentory_models': {documents} documents")
    print(f"sample search {query!r}:")
    for hit in hits["hits"]["hits"]:
        source = hit["_source"]
        print(f"  {hit['_score']:.2f}  {source['identifier']}  tasks={source['ml_tasks']} licenses={source['licenses']}")
    print(f"filter licenses:apache-2.0 -> {apache} documents")
    for row in runs:
        print(f"  openml run: {row['m']}: {row['run']}: predictive_accuracy = {row['value']}")
    print("\n=== Across sources: one graph, one search ===")
    print("models indexed per source: " + ", ".join(f"{source} {count}" for source, count in sorted(per_source.items())))
    print("entities shared between sources: " + (", ".join(f"{row['kind']} {row['entities']}" for row in shared_kinds) or "none"))
    shown: Counter[tuple[str, str]] = Counter()
    for row in shared:
        pair = (row["first"], row["second"])
        shown[pair] += 1
        if shown[pair] <= 3:  # the most shared of each pair of sources
            print(f"  shared by {row['first']} and {row['second']}: {row['name'] or row['uri']} ({row['uri']}): "
                  f"{row['a']} {row['first']} and {row['b']} {row['second']} models")
    for row in licence_findings:
        print(f"licence finding: {row['model']} (based on {row['base']}): {row['rule']}: {row['why']}")
    if not licence_findings:
        print("licence findings: none (no model's licence conflicts with its base's)")
    print(f"search {across!r}, the best hit of each source:")
    for source, hits_of_source in one_per_source.items():
        for hit in hits_of_source:
            print(f"  {source:<12} {hit['_source']['name']}  ({hit['_source']['url']})")
    print()


def summarize_leaderboards(ports: dict[str, int], password: str, shown: int = 5) -> None:
    """The leaderboards whose models come from more than one source (a dataset both a Hub card and
    OpenML runs report on, by one metric of the vocabulary), the first few ranks of each."""
    from elasticsearch import Elasticsearch
    from neo4j import GraphDatabase

    from mlentory.pipeline.leaderboards import leaderboard, metric_of
    from mlentory.stores.graph import GraphLoader
    from mlentory.stores.search_index import compared_across_sources

    es = Elasticsearch(f"http://127.0.0.1:{ports['es']}")
    pairs = compared_across_sources(es, "mlentory_models", limit=3)
    if not pairs:
        print("leaderboards across sources: none (no dataset has values of one metric from two sources)")
        return
    with GraphDatabase.driver(f"bolt://127.0.0.1:{ports['bolt']}", auth=("root", password)) as driver:
        graph = GraphLoader(driver)
        for pair in pairs:
            term = metric_of(pair["metric_term"])
            rows = leaderboard(es, "mlentory_models", graph.same_as(pair["dataset"]), term, shown)
            sources = ", ".join(f"{source} {count}" for source, count in sorted(pair["sources"].items()))
            print(f"leaderboard across sources: {pair['dataset']} by {term.label} ({sources} values; "
                  f"{'higher' if term.higher_is_better else 'lower'} is better)")
            for row in rows:
                where = ", ".join(part for part in (row["dataset"], row["dataset_split"]) if part)
                print(f"  {row['rank']}. {row['model_identifier']} ({row['source']}): {row['value']}  [{row['metric']}; {where}]")


def summarize_feed(run_folders: dict[str, str], shown: int = 5) -> None:
    """Each source's change feed: what this job's loading published (its counts), and the feed's last
    entries (read from the data root when it is a local folder)."""
    from mlentory.pipeline import feed, storage

    print("=== The change feed: what each loading run changed ===")
    for key, run_folder in sorted(run_folders.items()):
        published = (storage.read_json_at(run_folder, "loading/report.json") or {}).get("feed") or {}
        print(f"{key}: this run added {published.get('added', 0)}, changed {published.get('changed', 0)}, "
              f"withdrew {published.get('withdrawn', 0)} models (manifest {published.get('manifest', '-')})")
        if storage.is_remote(run_folder):
            continue  # the entries are in object storage, beside the manifest
        for entry in feed.last_entries(Path(run_folder).parent.parent, shown):
            print(f"  {entry['at'][:19]}  {entry['change']:<9} {entry['id']}  terms: {', '.join(entry['terms'][:6])}"
                  + (f" (+{len(entry['terms']) - 6})" if len(entry["terms"]) > 6 else ""))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="start the stack and run the pipeline")
    up_parser.add_argument("--models", type=int, default=None,
                           help=f"how many latest models each source harvests (default: every model the Hub lists, "
                                f"{DEFAULT_MODELS} of OpenML and of the zoo)")
    up_parser.add_argument("--snapshot", default="realdata" if (SHARED_REALDATA / "huggingface").is_dir() else "fixture",
                           help="fixture (the project's own), realdata (../shared/realdata) or a snapshot folder")
    up_parser.add_argument("--hub-api-budget", type=int, default=None,
                           help="the Hub API requests allowed per 5 minutes (default: a free token's 1,000); "
                                "account and dataset lookups beyond it are deferred to later runs")
    up_parser.add_argument("--from-dump", action="store_true",
                           help="harvest the Hub's models from its public dump of model cards (made from the snapshot by the replay)")
    up_parser.add_argument("--sources", type=lambda text: tuple(text.split(",")), default=SOURCE_KEYS,
                           help=f"the sources to run, comma-separated (default: {','.join(SOURCE_KEYS)})")
    up_parser.add_argument("--celery", action="store_true",
                           help="Airflow's distributed setup: CeleryExecutor with two workers, Postgres and Redis (Debian's servers)")
    up_parser.add_argument("--object-storage", action="store_true",
                           help="with --celery: the data root in object storage (an S3-API server on loopback), "
                                "each worker on a scratch folder of its own")
    up_parser.add_argument("--stall-minutes", type=float, default=15,
                           help="give up when no task of the stack starts, finishes or beats for this long (default 15)")
    up_parser.add_argument("--give-up-hours", type=float, default=24,
                           help="give up this long after the triggers however the runs progress (default 24)")
    up_parser.add_argument("--no-summary", dest="summary", action="store_false",
                           help="skip the summary of the graph and the index (its queries scan the whole graph)")
    sub.add_parser("down", help="stop everything 'up' started")
    args = parser.parse_args()
    if args.command == "up":
        if args.object_storage and not args.celery:
            parser.error("--object-storage needs --celery (its shared state is locked in the Celery stack's Redis)")
        try:
            up(args)
        except BaseException:
            say("the main job failed; stopping what it started")
            down()
            raise
    else:
        down()


if __name__ == "__main__":
    main()
