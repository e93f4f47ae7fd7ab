"""The main job talks only to the processes it started: a port checked free can be taken by another
local process before the started one binds it, and that process must receive no password. Its REST
calls survive a 5xx or a slow answer without making anything twice."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from conftest import ROOT

from devstack import servers

pytestmark = pytest.mark.system  # the Airflow database, servers or a whole stack: not in the fast lane


def main_job():  # noqa: ANN201 - scripts/localstack.py as a module
    spec = importlib.util.spec_from_file_location("main_job", ROOT / "scripts" / "localstack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Squatter:
    """Another local process's listener: it counts the connections it accepts."""

    def __init__(self, port: int = 0) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self.sock.close()


def started(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def test_a_port_taken_before_the_started_process_binds_it_is_refused_unasked():
    squatter = Squatter()
    late = started([sys.executable, "-c", "import time; time.sleep(30)"])  # has not bound its port yet
    try:
        began = time.monotonic()
        with pytest.raises(servers.PortTakenByAnother, match=f"127.0.0.1:{squatter.port} is held by another process"):
            servers.wait_for_port(squatter.port, timeout=20, process=late)
        assert time.monotonic() - began < 5  # refused at once, not after the timeout
        assert squatter.accepted == 0  # not even a connection: nothing could be sent to it
    finally:
        servers.stop(late.pid)
        squatter.close()


def test_the_started_process_and_its_workers_are_recognised():
    port = servers.free_port()
    # The listener is a child of the started process (a server with workers), in its session.
    server = started([sys.executable, "-c", "import subprocess, sys; subprocess.run([sys.executable, '-m', 'http.server', "
                                           f"'--bind', '127.0.0.1', '{port}'])"])
    try:
        servers.wait_for_port(port, timeout=30, process=server)
        assert servers.listener_is_started(port, server) is True
    finally:
        servers.stop(server.pid)


def test_the_graph_stores_password_goes_only_to_the_started_store(tmp_path):
    squatter = Squatter()
    try:
        with pytest.raises(servers.StoreDidNotStart):
            servers.start_arcadedb(tmp_path / "arcadedb", squatter.port, servers.free_port(), "secret-password")
        assert squatter.accepted <= 1  # the check that the port is free connects once; no Bolt handshake, no password
    finally:
        squatter.close()


def test_the_main_job_sends_the_admin_password_only_to_its_own_api_server(tmp_path, monkeypatch):
    job = main_job()
    monkeypatch.setattr(job, "LOCAL", tmp_path)
    monkeypatch.setattr(job, "PIDS", tmp_path / "pids")
    squatter = Squatter()
    try:
        with pytest.raises(servers.PortTakenByAnother):
            job.start("api-server", [sys.executable, "-c", "import time; time.sleep(30)"], {}, squatter.port)
        assert squatter.accepted == 0
    finally:
        for pid in job.running_pids().values():
            servers.stop(pid)
        squatter.close()


class FlakyApi:
    """An Airflow REST API stand-in: the first trigger is made but answered 503, the first status call
    is answered only after the client's timeout."""

    def __init__(self) -> None:
        runs: dict[str, dict[str, Any]] = {}
        calls: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, value: Any) -> None:
                body = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                calls.append(f"POST {self.path}")
                conf = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                run_id = conf.get("dag_run_id") or f"manual_{len(runs)}"
                if run_id in runs:
                    self._answer(409, {"detail": "exists"})
                    return
                runs[run_id] = {"dag_run_id": run_id, "state": "queued", "conf": conf["conf"]}
                self._answer(503 if len(runs) == 1 else 200, runs[run_id])

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                calls.append(f"GET {self.path}")
                if sum(call.startswith("GET") for call in calls) == 1:
                    time.sleep(2.5)
                self._answer(200, runs[self.path.rsplit("/", 1)[1]])

            def log_message(self, *args: Any) -> None:
                pass

        self.runs, self.calls = runs, calls
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_trigger_answered_5xx_or_slowly_is_tried_again_and_makes_one_run():
    job = main_job()
    api = FlakyApi()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{api.server.server_port}", timeout=1) as client:
            run = job.trigger(client, "hf_extraction", {"num_models": 3})
    finally:
        api.close()
    assert list(api.runs) == [run["dag_run_id"]]  # one run, found again by the id the job chose
    assert run["conf"] == {"num_models": 3}
    assert api.calls[:2] == ["POST /api/v2/dags/hf_extraction/dagRuns"] * 2  # the 503, then the 409
