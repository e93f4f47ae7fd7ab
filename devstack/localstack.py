"""Start and stop the local stand-ins for the production stores (no Docker here), by PID.

- ArcadeDB (PyPI ``arcadedb-embedded``) speaks Bolt and Cypher for Neo4j 5;
- noida-db (PyPI ``noida-db``) speaks the Elasticsearch 8 REST API.

Both bind to 127.0.0.1. The code under test is written for Neo4j 5 and Elasticsearch 8; the
docker-compose deployment runs the real ones. Used by the test suite and by ``scripts/demo.sh``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.pid} exited with {process.returncode} before port {port} opened")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def start_arcadedb(workdir: Path, bolt_port: int, http_port: int, password: str, heap: str = "1g") -> subprocess.Popen:
    import arcadedb_embedded

    home = Path(arcadedb_embedded.__file__).parent
    workdir.mkdir(parents=True, exist_ok=True)
    password_args = workdir / "password.args"  # a java @argfile
    password_args.touch(mode=0o600)
    password_args.chmod(0o600)
    password_args.write_text(f"-Darcadedb.server.rootPassword={password}\n")
    command = [
        str(home / "jre" / "bin" / "java"), f"-Xmx{heap}", "--add-modules", "jdk.incubator.vector",
        "-cp", f"{home / 'jars'}/*",
        f"-Darcadedb.server.rootPath={workdir / 'root'}",
        f"@{password_args}",  # the password from an owner-only file, not on the command line any user can read
        "-Darcadedb.server.httpIncomingHost=127.0.0.1", f"-Darcadedb.server.httpIncomingPort={http_port}",
        "-Darcadedb.bolt.host=127.0.0.1", f"-Darcadedb.bolt.port={bolt_port}",
        "-Darcadedb.server.defaultDatabases=neo4j[root]", "-Darcadedb.bolt.defaultDatabase=neo4j",
        "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
        "com.arcadedb.server.ArcadeDBServer",
    ]
    log = (workdir / "arcadedb.log").open("ab")
    # cwd: ArcadeDB writes ./log where it starts.
    process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for_port(bolt_port, process=process)
    # The Bolt port opens before the default database exists: ready means it answers a query.
    wait_for_graph_database(bolt_port, password, process=process)
    return process


def wait_for_graph_database(bolt_port: int, password: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    from neo4j import GraphDatabase
    from neo4j.exceptions import Neo4jError, ServiceUnavailable

    deadline = time.monotonic() + timeout
    with GraphDatabase.driver(f"bolt://127.0.0.1:{bolt_port}", auth=("root", password)) as driver:
        while True:
            try:
                with driver.session(database="neo4j") as session:
                    session.run("RETURN 1").consume()
                return
            except (Neo4jError, ServiceUnavailable, OSError):
                if time.monotonic() > deadline or (process is not None and process.poll() is not None):
                    raise
                time.sleep(0.3)


def start_noida(workdir: Path, port: int) -> subprocess.Popen:
    import noida_db

    binary = Path(noida_db.__file__).parent / "noida-db"
    workdir.mkdir(parents=True, exist_ok=True)
    log = (workdir / "noida.log").open("ab")
    command = [str(binary), "start", "--only", "elasticsearch", "--host", "127.0.0.1",
               "--elasticsearch-port", str(port), "--data-dir", str(workdir / "es-data")]
    process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for_port(port, process=process)
    wait_for_http(f"http://127.0.0.1:{port}/", process=process)
    return process


def wait_for_http(url: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline or (process is not None and process.poll() is not None):
            raise TimeoutError(f"{url} did not answer 200 within {timeout}s")
        time.sleep(0.3)


def stop(pid: int, timeout: float = 15.0) -> None:
    """Stop one process we started (and its process group, which only it leads)."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished:
                return
        except ChildProcessError:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
