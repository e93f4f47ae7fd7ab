"""The README's main job: the local stack starts, a REST API trigger of hf_extraction cascades through
the assets to transformation and loading under the real scheduler, and stop leaves nothing running.
Under the same scheduler: two harvests at once lose no run folder, and the stack stopped and started
again keeps the graph, the index and the state (the next main job skips what it loaded)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.system  # the Airflow database, servers or a whole stack: not in the fast lane


@pytest.mark.timeout(1800)  # the main job twice (three sources, four Airflow components): ~10 min on 2 cores
def test_main_job_runs_the_pipeline_and_stop_cleans_up(tmp_path):
    env = {**os.environ, "MLENTORY_LOCAL_DIR": str(tmp_path / "local")}
    for key in [k for k in env if k.startswith(("AIRFLOW", "HF_ENDPOINT"))]:
        del env[key]  # the stack configures its own Airflow, not the test session's
    command = [sys.executable, str(ROOT / "scripts" / "localstack.py")]
    started: list[int] = []
    local = tmp_path / "local"
    try:
        up = subprocess.run([*command, "up", "--snapshot", "fixture", "--models", "6"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
        assert up.returncode == 0, up.stdout[-4000:] + up.stderr[-4000:]
        out = up.stdout
        assert "hf_extraction succeeded" in out and "hf_transformation succeeded" in out and "hf_loading succeeded" in out
        assert re.search(r"hf_extraction succeeded .*: run folder \S+: models 9, skipped_unchanged 0", out), out
        assert re.search(r"hf_loading succeeded .*: models_loaded 9, models_failed 0", out), out
        assert re.search(r"openml_loading succeeded .*: models_loaded 2, models_failed 0", out), out
        assert re.search(r"ai4life_loading succeeded .*: models_loaded 2, models_failed 0", out), out
        # Hub: 6 latest + 3 ancestors, and the named stub of the base model that vanished; OpenML: 2 flows; the zoo: 2 models
        assert "fair4ml__MLModel             14" in out, out
        assert "evaluation: acme-ai/sentiment-lm: Text Classification on imdb (test): Accuracy = 0.934" in out, out
        assert "filter licenses:apache-2.0 -> " in out
        assert "index 'mlentory_models': 13 documents" in out
        # Across sources: one graph (a language, a paper two sources describe is one node), one search.
        assert "models indexed per source: ai4life 2, huggingface 9, openml 2" in out, out
        assert re.search(r"shared by huggingface and openml: English \(http://lexvo.org/id/iso639-3/eng\): \d+ huggingface and 2 openml models", out), out
        assert re.search(r"shared by ai4life and huggingface: .* \(https://arxiv.org/abs/2101.00001\): 1 ai4life and \d+ huggingface models", out), out
        assert re.search(r"entities shared between sources: .*schema__ScholarlyArticle 1", out), out
        assert re.search(r"  ai4life      Fixture\S+.*\n  huggingface  \S+.*\n  openml       sklearn\.Pipeline", out), out
        assert "openml run: sklearn.Pipeline(SimpleImputer,RandomForestClassifier): https://www.openml.org/r/5001: predictive_accuracy = 0.9612" in out
        assert "Airflow UI: http://127.0.0.1:" in out
        check_what_the_job_says(local, out, up.stderr)
        check_the_readme_first_query(local, tmp_path / "readme")
        assert (local / "secrets" / "airflow_admin_password").read_text().strip() not in up.stdout + up.stderr  # named by its file only
        # A licence finding along the model tree: the Apache-licensed fine-tune of a non-commercial base.
        assert re.search(r"^licence finding: acme-ai/base-lm \(based on https://huggingface.co/acme-ai/old-base\): non-commercial-base: ", out, re.MULTILINE), out
        # A leaderboard across sources: the Hub card's Iris (which is OpenML's data set 61) and OpenML's runs on it, by accuracy.
        assert re.search(r"^leaderboard across sources: https://www.openml.org/d/61 by Accuracy \(huggingface 1, openml 2 values; higher is better\)\n"
                         r"  1\. lab-x/iris-logreg \(huggingface\): 0\.967  \[Accuracy; scikit-learn/iris, test\]\n"
                         r"  2\. \S+ \(openml\): 0\.9612  \[predictive_accuracy; \S+\]$", out, re.MULTILINE), out
        # The change feed: each source's first load added every model it loaded, the last entries named.
        assert re.search(r"^hf: this run added 9, changed 0, withdrew 0 models \(manifest feed/\S+\.json\)$", out, re.MULTILINE), out
        assert re.search(r"^openml: this run added 2, changed 0, withdrew 0 models", out, re.MULTILINE), out
        assert re.search(r"^  \S+  added     \S+/\S+  terms: .*dateModified", out, re.MULTILINE), out
        started = [int(p.read_text()) for p in (local / "pids").glob("*.pid")]
        assert len(started) == 7  # graph, index, replay and four Airflow components
        check_secrets_stay_secret(local, started)
        check_a_stall_is_noticed(local, out)
        check_two_harvests_at_once(local, out)  # also the README's REST walkthrough, on the second harvest
        check_the_ui_in_a_browser(local, tmp_path / "screenshots")
    finally:
        down = subprocess.run([*command, "down"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert down.returncode == 0
    check_nothing_left_running(local, started)

    # The whole stack stopped and started again: the graph, the index and the state are intact, and
    # the main job follows its own new runs (not the earlier ones) and skips every unchanged model.
    # The Hub's chain alone (OpenML's and the zoo's reruns are checked by their own e2e tests).
    try:
        again = subprocess.run([*command, "up", "--snapshot", "fixture", "--models", "6", "--sources", "hf"], env=env, cwd=ROOT,
                               capture_output=True, text=True, timeout=900)
        assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-4000:]
        started = [int(p.read_text()) for p in (local / "pids").glob("*.pid")]
    finally:
        down = subprocess.run([*command, "down"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert down.returncode == 0
    check_nothing_left_running(local, started)
    folders = {re.search(r"hf_extraction succeeded .*: run folder (\S+):", text).group(1) for text in (out, again.stdout)}
    assert len(folders) == 2, "the second main job reported the first one's run"
    assert re.search(r"hf_extraction succeeded .*: models 0, skipped_unchanged 6", again.stdout), again.stdout
    assert re.search(r"hf_loading succeeded .*: models_loaded 0, models_failed 0", again.stdout), again.stdout
    assert re.search(r"^hf: this run added 0, changed 0, withdrew 0 models", again.stdout, re.MULTILINE), again.stdout  # nothing changed
    assert graph_summary(again.stdout) == graph_summary(out)


def check_what_the_job_says(local: Path, out: str, err: str) -> None:
    """Each stage's own duration (from its DAG runs) and each source's total; per source its run
    folder, its report, and its errors and warnings counted by reason with their files; no library's
    log line in the job's output (they are in its log file)."""
    for key in ("hf", "openml", "ai4life"):
        for stage in ("extraction", "transformation", "loading"):
            assert re.search(rf"^\[mlentory\] {key}_{stage} succeeded in \d+ s: run folder ", out, re.MULTILINE), out
        done = re.search(rf"^\[mlentory\] {key} done: extraction (\d+) s, transformation (\d+) s, loading (\d+) s; (\d+) s from its trigger "
                         rf"to the end of its loading\n    run folder (\S+); its report (\S+)$", out, re.MULTILINE)
        assert done, out
        stages, total = [int(done.group(i)) for i in (1, 2, 3)], int(done.group(4))
        assert all(seconds > 0 for seconds in stages) and total >= sum(stages) - 3, done.group(0)  # the stages follow each other
        folder = Path(done.group(5))
        assert folder.is_relative_to(local / "data" / key / "runs") and Path(done.group(6)) == folder / "report.md"
        assert (folder / "report.md").read_text().startswith("# Run report")
    # The fixture's Hub run: no error; its two warnings, each under its own reason, and their file.
    hub = out[out.index("[mlentory] hf done:"):]
    assert re.search(r"^    no errors\n    warnings 2 \((\S+)/warnings\.jsonl\), by reason:\n"
                     r"          1  extraction: base model lookup: not found on the Hub \(deleted, renamed or private\); linked as a stub\n"
                     r"          1  extraction: card metadata: front matter not read: ParserError: while parsing a flow sequence$", hub, re.MULTILINE), hub
    # The zoo's description the spec rejects is its one error.
    zoo = out[out.index("[mlentory] ai4life done:"):]
    assert re.search(r"^    errors 1 \(\S+/errors\.jsonl\), by reason:\n          1  extraction: resources: Rejected$", zoo, re.MULTILINE), zoo
    assert not re.search(r"elastic_transport|huggingface_hub|Repo card metadata|\b(INFO|WARNING)\b|Traceback", out + err), out + err
    assert (local / "logs" / "main-job.log").stat().st_size > 0  # where those lines went


def check_the_readme_first_query(local: Path, workdir: Path) -> None:
    """The README's first query of the graph and the index, run as it is written from a folder whose
    `.local` is the stack's: a fine-tune and its base, search hits with their source and licences."""
    readme = (ROOT / "README.md").read_text()
    snippet = re.search(r"^\.venv/bin/python - <<'EOF'\n(.*?)^EOF$", readme, re.MULTILINE | re.DOTALL).group(1)
    workdir.mkdir()
    (workdir / ".local").symlink_to(local)
    ran = subprocess.run([sys.executable, "-"], input=snippet, cwd=workdir, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert re.search(r"^acme-ai/base-lm is fine-tuned from https://huggingface.co/acme-ai/old-base$", ran.stdout, re.MULTILINE), ran.stdout
    assert re.search(r"^acme-ai/sentiment-lm \(huggingface\): licences \[", ran.stdout, re.MULTILINE), ran.stdout


def check_a_stall_is_noticed(local: Path, out: str) -> None:
    """The job waits while Airflow works and gives up when nothing moves: with the stack idle after the
    main job, a wait for something that never comes ends as a stall, not at a fixed timeout."""
    import importlib.util

    import httpx

    spec = importlib.util.spec_from_file_location("localstack_for_test", ROOT / "scripts" / "localstack.py")
    previous = os.environ.get("MLENTORY_LOCAL_DIR")
    os.environ["MLENTORY_LOCAL_DIR"] = str(local)
    try:
        localstack = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(localstack)
    finally:
        os.environ.pop("MLENTORY_LOCAL_DIR") if previous is None else os.environ.update(MLENTORY_LOCAL_DIR=previous)
    base = re.search(r"Airflow UI: (http://127.0.0.1:\d+)", out).group(1)
    with httpx.Client(base_url=base, timeout=30) as client:
        password = (local / "secrets" / "airflow_admin_password").read_text().strip()
        client.headers["Authorization"] = "Bearer " + client.post("/auth/token", json={"username": "admin", "password": password}).json()["access_token"]
        follower = localstack.Follower(client, stall_after=6, give_up_after=300)
        assert follower.components >= {"api-server", "scheduler", "dag-processor", "triggerer"}
        began = time.monotonic()
        with pytest.raises(SystemExit, match="no task started, finished or beat for 6 s while waiting for nothing"):
            follower.wait("nothing", lambda: None, interval=1)
        assert time.monotonic() - began < 60


def graph_summary(out: str) -> str:
    """The main job's account of the graph and the index (counts per label, lineage, evaluations)."""
    return out[out.index("=== MLentory"):out.index("sample search")]


def check_nothing_left_running(local: Path, started: list[int]) -> None:
    assert list((local / "pids").glob("*.pid")) == []
    # Each component led its own process group: no member of those groups (workers included) is left.
    groups = {int(line.split()[1]): line for line in subprocess.run(["ps", "-eo", "pid,pgid,args"], capture_output=True, text=True)
              .stdout.splitlines()[1:] if line.split()[1] in {str(pid) for pid in started}}
    assert groups == {}, f"processes left running: {list(groups.values())}"


def check_secrets_stay_secret(local, started: list[int]) -> None:
    """No credential on a command line or in a log, run folder or index; secret files and logs are the
    owner's only; nothing the stack started listens beyond the loopback interface."""
    import ipaddress

    import psutil

    secrets = {p.name: p.read_text() for p in (local / "secrets").iterdir()}
    assert {"graph_password", "airflow_admin_password", "jwt_secret"} <= set(secrets)
    processes = [psutil.Process(pid) for pid in started]
    processes += [child for process in processes for child in process.children(recursive=True)]
    for process in processes:
        try:
            command_line, listeners = " ".join(process.cmdline()), process.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue  # a worker that finished meanwhile
        assert not any(value in command_line for value in secrets.values()), f"a secret is on the command line of {process.pid}"
        for listener in listeners:
            if listener.status == psutil.CONN_LISTEN:
                address = ipaddress.ip_address(listener.laddr.ip)
                address = getattr(address, "ipv4_mapped", None) or address
                assert address.is_loopback, f"{process.pid} listens on {listener.laddr}"
    for path in [*(local / "secrets").iterdir(), *(local / "logs").iterdir(), local / "airflow" / "passwords.json"]:
        assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"
    for path in local.rglob("*"):
        if path.is_file() and "secrets" not in path.parts and path.name not in ("passwords.json", "password.args") and path.stat().st_size < 50_000_000:
            text = path.read_bytes()
            assert not any(value.encode() in text for value in secrets.values()), f"a secret is written in {path}"


def check_two_harvests_at_once(local: Path, main_job_output: str) -> None:
    """Two extraction runs triggered together through the REST API, sharing a model, while loading is
    paused (as for maintenance): their transformation events reach no loading run (Airflow does not
    queue runs of a paused DAG). Resumed, one loading run takes both waiting folders, and the shared
    model is loaded once, from the newer one. Nothing is lost, nothing doubled.

    The calls are the README's REST walkthrough (a token, triggers with conf), which is then followed
    to its end on the second harvest (``follow_to_the_report``)."""
    import httpx
    from neo4j import GraphDatabase

    base = re.search(r"Airflow UI: (http://127.0.0.1:\d+)", main_job_output).group(1)
    bolt = re.search(r"bolt://127.0.0.1:(\d+)", main_job_output).group(1)
    with httpx.Client(base_url=base, timeout=30) as client:
        password = (local / "secrets" / "airflow_admin_password").read_text().strip()
        token = client.post("/auth/token", json={"username": "admin", "password": password})
        assert token.status_code in (200, 201), token.text
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        assert httpx.get(f"{base}/api/v2/dags").status_code == 401  # no token, no API

        def runs(dag_id: str) -> list[dict]:
            return client.get(f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 100}).json()["dag_runs"]

        def wait_until(what: str, done, dag_ids: tuple[str, ...], earlier: dict[str, set[str]]) -> None:  # noqa: ANN001
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                new_runs = [r for dag_id in dag_ids for r in runs(dag_id) if r["dag_run_id"] not in earlier[dag_id]]
                assert not [r for r in new_runs if r["state"] == "failed"], new_runs
                if done() and all(r["state"] == "success" for r in new_runs):
                    return
                time.sleep(3)
            raise AssertionError(f"timed out waiting for {what}")

        assert client.patch("/api/v2/dags/hf_loading", json={"is_paused": True}).status_code == 200
        earlier = {dag_id: {r["dag_run_id"] for r in runs(dag_id)} for dag_id in ("hf_extraction", "hf_transformation", "hf_loading")}
        post_hostile_events(client)
        triggered = []
        for number, model_ids in enumerate((["acme-ai/sentiment-lm", "lab-x/speech-asr"], ["acme-ai/sentiment-lm", "community/merged-lm"])):
            conf = {"num_models": 0, "model_ids": model_ids, "ancestor_generations": 0, "full_refresh": True}
            triggered.append(trigger_as_the_readme_says(client, "hf_extraction", f"two_harvests_{number}_{time.time_ns()}", conf))

        def folder_of(run_id: str) -> Path | None:
            response = client.get(f"/api/v2/dags/hf_extraction/dagRuns/{run_id}/taskInstances/hf_run_folder/xcomEntries/return_value")
            return Path(response.json()["value"]) if response.status_code == 200 else None

        folders: list[Path | None] = [None, None]

        def transformed() -> bool:
            folders[:] = [folder_of(run_id) for run_id in triggered]
            return all(folders) and all((f / "transformation" / "SUCCESS.json").exists() for f in folders)

        wait_until("both harvests to be transformed", transformed, ("hf_extraction", "hf_transformation"), earlier)
        assert [r for r in runs("hf_loading") if r["dag_run_id"] not in earlier["hf_loading"]] == []
        assert client.patch("/api/v2/dags/hf_loading", json={"is_paused": False}).status_code == 200
        resumed = trigger_as_the_readme_says(client, "hf_loading", f"resumed_{time.time_ns()}", {})
        wait_until("the resumed loading run", lambda: all((f / "loading" / "SUCCESS.json").exists() for f in folders),
                   ("hf_loading",), earlier)
        loaded = client.get(f"/api/v2/dags/hf_loading/dagRuns/{resumed}/taskInstances/hf_loading_run_folders"
                            "/xcomEntries/return_value").json()["value"]
        assert loaded == [str(f) for f in folders]
        follow_to_the_report(client, folders[1])
    reports = [json.loads((folder / "loading" / "report.json").read_text()) for folder in folders]
    # Loaded together: the older folder's copy of the shared model gives way to the newer one's.
    assert [(r["models_loaded"], r["models_superseded"], r["models_failed"]) for r in reports] == [(1, 1, 0), (2, 0, 0)]
    secret = (local / "secrets" / "graph_password").read_text().strip()
    with GraphDatabase.driver(f"bolt://127.0.0.1:{bolt}", auth=("root", secret)) as driver, driver.session() as session:
        models = session.run("MATCH (m:fair4ml__MLModel) RETURN count(m) AS c, count(DISTINCT m.uri) AS u").single()
    assert (models["c"], models["u"]) == (14, 14)  # the same models again (12 of the Hub and OpenML, 2 of the zoo): nothing doubled


def trigger_as_the_readme_says(client, dag_id: str, run_id: str, conf: dict) -> str:  # noqa: ANN001 - an httpx.Client with the token
    """The README's trigger: a run id of the caller's, so that a call answered 5xx (or not at all) is
    sent again safely; a 409 on the second try means the first made the run."""
    for attempt in range(3):
        response = client.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"dag_run_id": run_id, "logical_date": None, "conf": conf})
        if response.status_code == 200 or (attempt and response.status_code == 409):
            return run_id
        assert response.status_code >= 500, response.text
        time.sleep(2)
    raise AssertionError(f"{dag_id} could not be triggered: {response.status_code} {response.text}")


def post_hostile_events(client) -> None:  # noqa: ANN001 - an httpx.Client with the token
    """Asset events anyone with API access could write, naming no run folder of ours: the
    transformation runs they trigger refuse each alone and succeed (a failed run fails the caller's
    wait); the harvests' own events beside them are transformed."""
    assets = client.get("/api/v2/assets", params={"name_pattern": "hf_raw_models", "limit": 100}).json()["assets"]
    [raw] = [asset for asset in assets if asset["name"] == "hf_raw_models"]
    # Three, posted at once (each run they trigger costs the suite half a minute); the other kinds of
    # hostile value (a lone surrogate, which this API refuses itself, numbers, lists, symlinks) are
    # checked against the same resolution in test_trust.py.
    for hostile in ("\u0000", "a" * 100_000, "../../../../etc/20250101T000000000000Z_0123abcd"):
        body = json.dumps({"asset_id": raw["id"], "extra": {"run_folder": hostile}})  # a NUL written escaped
        response = client.post("/api/v2/assets/events", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code in (200, 201), response.text


def follow_to_the_report(client, folder: Path) -> None:  # noqa: ANN001 - an httpx.Client with the token
    """The rest of the README's REST walkthrough, for a triggered harvest: the loading's asset event for
    its run folder carries the run report, which the loading's last task log shows as Markdown."""
    events = client.get("/api/v2/assets/events", params={"source_dag_id": "hf_loading", "source_task_id": "hf_loading_report",
                                                         "order_by": "-timestamp", "limit": 20}).json()["asset_events"]
    # The report task emits two events (hf_models_graph, hf_models_loaded): the report is on the second.
    event = next((e for e in events if e.get("name") == "hf_models_loaded" and (e.get("extra") or {}).get("run_folder") == str(folder)), None)
    assert event is not None, f"no loading event for {folder}: {events}"
    report = event["extra"]["report"]
    assert report["stages"]["extraction"]["records_out"] == 2 and report["stages"]["loading"]["records_out"] == 2, report
    assert report["stages"]["extraction"]["api_requests"]["huggingface_api"] >= 1
    assert report["field_coverage"]["identifier"] == 1.0
    # The event names the run's part of the change feed, for a DAG or a mirror that follows it.
    assert set(event["extra"]["feed"]) == {"manifest", "added", "changed", "withdrawn"}, event["extra"]
    assert event["extra"]["feed"]["manifest"] == f"feed/{folder.name}.json"
    log = client.get(f"/api/v2/dags/hf_loading/dagRuns/{event['source_run_id']}/taskInstances/hf_loading_report/logs/1",
                     params={"map_index": event["source_map_index"]}, headers={"Accept": "application/json"})
    assert log.status_code == 200, log.text
    assert "# Run report" in log.text and "| extraction |" in log.text


def check_the_ui_in_a_browser(local: Path, screenshots: Path) -> None:
    """Headless Chromium logs in, opens the Assets lineage graph, a finished run's grid and the
    trigger forms (``browser.check_the_ui`` fails on an error page, a failed API call, or a form
    marking an optional param required)."""
    from browser import check_the_stack_ui

    seen = check_the_stack_ui(local, screenshots)
    assert {"hf_extraction", "hf_transformation", "hf_loading"} <= set(seen["lineage"]), seen
    assert seen["run"] == {"success": True, "report_task": True}, seen
    extraction = seen["forms"]["hf_extraction"]
    assert extraction["model_ids"] is False and extraction["dump_rows"] is False  # optional: empty by default
    assert extraction["num_models"] is True  # typed, with a default filled in
    assert seen["forms"]["hf_loading"]["run_folder"] is False
    assert {path.name for path in screenshots.iterdir()} >= {"asset_lineage.png", "loading_run.png", "hf_extraction_trigger.png"}
