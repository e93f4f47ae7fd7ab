"""The README's main job: the local stack starts, a REST API trigger of hf_extraction cascades through
the assets to transformation and loading under the real scheduler, and stop leaves nothing running."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def test_main_job_runs_the_pipeline_and_stop_cleans_up(tmp_path):
    env = {**os.environ, "MLENTORY_LOCAL_DIR": str(tmp_path / "local")}
    for key in [k for k in env if k.startswith(("AIRFLOW", "HF_ENDPOINT"))]:
        del env[key]  # the stack configures its own Airflow, not the test session's
    command = [sys.executable, str(ROOT / "scripts" / "localstack.py")]
    started: list[int] = []
    try:
        up = subprocess.run([*command, "up", "--snapshot", "fixture", "--models", "5"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
        assert up.returncode == 0, up.stdout[-4000:] + up.stderr[-4000:]
        out = up.stdout
        assert "hf_extraction succeeded" in out and "hf_transformation succeeded" in out and "hf_loading succeeded" in out
        # 5 latest + 3 ancestors, and the named stub of the base model that vanished from the Hub
        assert "fair4ml__MLModel             9" in out, out
        assert "evaluation: acme-ai/sentiment-lm: Text Classification on imdb (test): Accuracy = 0.934" in out, out
        assert "filter licenses:apache-2.0 -> " in out
        assert "index 'mlentory_models': 8 documents" in out
        assert "Airflow UI: http://127.0.0.1:" in out
        started = [int(p.read_text()) for p in (tmp_path / "local" / "pids").glob("*.pid")]
        assert len(started) == 7  # graph, index, replay and four Airflow components
        check_secrets_stay_secret(tmp_path / "local", started)
    finally:
        down = subprocess.run([*command, "down"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert down.returncode == 0
    assert list((tmp_path / "local" / "pids").glob("*.pid")) == []
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
