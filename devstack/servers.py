"""Start and stop the local servers (no Docker here), by PID: the stand-ins for the production stores,

- ArcadeDB (PyPI ``arcadedb-embedded``) speaks Bolt and Cypher for Neo4j 5;
- noida-db (PyPI ``noida-db``) speaks the Elasticsearch 8 REST API;

and PostgreSQL, Redis and an S3 server for the distributed setup. All bind to 127.0.0.1. The code
under test is written for Neo4j 5 and Elasticsearch 8; the docker-compose deployment runs the real
ones. Used by the test suite and by the main job's stack (``scripts/localstack.py``, the one driver).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Distinct free ports: every socket stays bound until all are chosen, so no two are the same."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class StoreDidNotStart(RuntimeError):
    """A stand-in store did not come up; the message carries the end of its log."""


def log_tail(log: Path, characters: int = 2_000) -> str:
    try:
        return log.read_text(errors="replace")[-characters:]
    except OSError:
        return ""


class PortTakenByAnother(RuntimeError):
    """Another process listens where a started one should: nothing (no password) is sent there."""


def _listening_inodes(port: int) -> set[int] | None:
    """The inodes of the sockets listening on TCP ``port`` (any address), from ``/proc/net``; None
    where the system has no ``/proc/net/tcp`` (not Linux)."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return None
    inodes = set()
    for table in tables:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            # local_address is ADDRESS:PORT in hex; state 0A is LISTEN.
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(int(fields[9]))
    return inodes


def _session_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[3])  # the fields after the command: state, ppid, pgrp, session


def _socket_owners(inodes: set[int]) -> dict[int, int]:
    """Socket inode -> the pid of a process holding it (of those this user may inspect)."""
    owners: dict[int, int] = {}
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                inode = wanted.get(os.readlink(fd))
                if inode is not None:
                    owners.setdefault(inode, int(proc.name))
        except OSError:
            continue
    return owners


def listener_is_started(port: int, process: subprocess.Popen) -> bool | None:
    """Whether what listens on ``port`` belongs to ``process`` (it, or a process of the session it
    leads: its workers); None while nothing listens. PortTakenByAnother when another process does,
    or one that cannot be told (of another user)."""
    inodes = _listening_inodes(port)
    if inodes is None:  # no /proc: only whether something accepts can be told
        return True if port_in_use(port) else None
    if not inodes:
        return None
    owners = _socket_owners(inodes)
    strangers = {inode: owners.get(inode) for inode in inodes if owners.get(inode) is None or _session_of(owners[inode]) != process.pid}
    if strangers:
        held_by = ", ".join(f"pid {pid}" if pid else "a process of another user" for pid in strangers.values())
        raise PortTakenByAnother(f"127.0.0.1:{port} is held by another process ({held_by}), not by the one started (pid {process.pid}): "
                                 "nothing is sent to it")
    return True


def wait_for_port(port: int, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    """Until something listens on 127.0.0.1:``port``; with ``process`` (started with a session of its
    own), until it does: a listener of any other process there is refused at once, so that no
    password the caller sends next can reach it (a port checked free can be taken before the
    started process binds it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.pid} exited with {process.returncode} before port {port} opened")
        if process is not None:
            if listener_is_started(port, process):
                return
        else:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def start_arcadedb(workdir: Path, bolt_port: int, http_port: int, password: str, heap: str = "1g") -> subprocess.Popen:
    """ArcadeDB on the given ports; :class:`StoreDidNotStart` (with its log) when it does not come up.

    A port taken between choosing and binding it is the usual cause. ArcadeDB does not exit then: its
    main thread dies while the Bolt listener keeps answering "database does not exist", so the
    log is watched for the failure rather than waiting for the timeout.
    """
    import arcadedb_embedded

    for port in (bolt_port, http_port):
        if port_in_use(port):
            raise StoreDidNotStart(f"port {port} is already in use")

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
    log_path = workdir / "arcadedb.log"
    log_start = log_path.stat().st_size if log_path.exists() else 0
    with log_path.open("ab") as log:
        # cwd: ArcadeDB writes ./log where it starts.
        process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def failed_to_start() -> bool:
        with log_path.open("rb") as log:
            log.seek(log_start)
            return b'Exception in thread "main"' in log.read()

    try:
        wait_for_port(bolt_port, process=process)
        # The Bolt port opens before the default database exists: ready means it answers a query.
        wait_for_graph_database(bolt_port, password, process=process, gave_up=failed_to_start)
    except Exception as error:
        stop(process.pid)
        raise StoreDidNotStart(f"ArcadeDB did not start ({error.__class__.__name__}); its log ends:\n{log_tail(log_path)}") from error
    return process


def start_arcadedb_on_free_ports(workdir: Path, password: str, attempts: int = 3) -> tuple[subprocess.Popen, int, int]:
    """ArcadeDB on ports it chooses, trying fresh ports when another process takes one first."""
    for attempt in range(1, attempts + 1):
        bolt_port, http_port = free_ports(2)
        try:
            return start_arcadedb(workdir, bolt_port, http_port, password), bolt_port, http_port
        except StoreDidNotStart:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def wait_for_graph_database(bolt_port: int, password: str, timeout: float = 60.0, process: subprocess.Popen | None = None,
                            gave_up: Callable[[], bool] = lambda: False) -> None:
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
                if time.monotonic() > deadline or (process is not None and process.poll() is not None) or gave_up():
                    raise
                time.sleep(0.3)


def start_noida(workdir: Path, port: int) -> subprocess.Popen:
    import noida_db

    binary = Path(noida_db.__file__).parent / "noida-db"
    workdir.mkdir(parents=True, exist_ok=True)
    if port_in_use(port):
        raise StoreDidNotStart(f"port {port} is already in use")
    log_path = workdir / "noida.log"
    command = [str(binary), "start", "--only", "elasticsearch", "--host", "127.0.0.1",
               "--elasticsearch-port", str(port), "--data-dir", str(workdir / "es-data")]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, process=process)
        wait_for_http(f"http://127.0.0.1:{port}/", process=process)
    except Exception as error:
        stop(process.pid)
        raise StoreDidNotStart(f"noida-db did not start ({error.__class__.__name__}); its log ends:\n{log_tail(log_path)}") from error
    return process


def start_noida_on_free_port(workdir: Path, attempts: int = 3) -> tuple[subprocess.Popen, int]:
    for attempt in range(1, attempts + 1):
        (port,) = free_ports(1)
        try:
            return start_noida(workdir, port), port
        except StoreDidNotStart:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


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


# -- the distributed path's servers: Postgres (metadata database, Celery results) and Redis (broker) --

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


def _postgres_command(name: str) -> str:
    found = POSTGRES_BIN / name
    return str(found) if found.exists() else name


def _as_postgres_user() -> list[str]:
    """Postgres refuses to run as root: as root, run its commands as the ``postgres`` system user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def start_postgres(workdir: Path, port: int, password: str) -> subprocess.Popen:
    """Debian's PostgreSQL on 127.0.0.1:``port`` with a database and user ``airflow`` (``password``),
    its data and socket in ``workdir``. Returns the server process (stop it with ``stop``)."""
    import shutil

    data, sockets = workdir / "data", workdir / "run"
    workdir.mkdir(parents=True, exist_ok=True)
    sockets.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
        # The postgres user must be able to pass through the folders above its own (to pass only:
        # everything in them stays its owner's).
        for parent in workdir.resolve().parents:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)
    if not (data / "PG_VERSION").exists():
        secret = workdir / "pwfile"
        secret.write_text(password)
        if os.geteuid() == 0:
            shutil.chown(secret, "postgres", "postgres")
        secret.chmod(0o600)
        subprocess.run([*_as_postgres_user(), _postgres_command("initdb"), "-D", str(data), "-U", "airflow", "--pwfile", str(secret),
                        "-A", "scram-sha-256", "--no-sync"], check=True, stdout=subprocess.DEVNULL)
        secret.unlink()
    log = (workdir / "postgres.log").open("ab")
    process = subprocess.Popen([*_as_postgres_user(), _postgres_command("postgres"), "-D", str(data), "-p", str(port),
                                "-c", "listen_addresses=127.0.0.1", "-k", str(sockets), "-c", "fsync=off"],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for_port(port, timeout=60, process=process)
    environment = {**os.environ, "PGPASSWORD": password}
    exists = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "airflow", "-d", "postgres", "-tAc",
                             "SELECT 1 FROM pg_database WHERE datname = 'airflow'"], env=environment, capture_output=True, text=True, check=True)
    if exists.stdout.strip() != "1":
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "airflow", "-d", "postgres", "-c", "CREATE DATABASE airflow"],
                       env=environment, check=True, stdout=subprocess.DEVNULL)
    return process


def start_redis(workdir: Path, port: int, password: str) -> subprocess.Popen:
    """Debian's redis-server on 127.0.0.1:``port`` with ``password``, no persistence."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "redis.conf"  # the password in a file of the owner's, not on the command line
    config.write_text(f"bind 127.0.0.1\nport {port}\nrequirepass {password}\nsave \"\"\nappendonly no\ndir {workdir}\n")
    config.chmod(0o600)
    log = (workdir / "redis.log").open("ab")
    process = subprocess.Popen(["redis-server", str(config)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for_port(port, timeout=30, process=process)
    return process


def start_s3(workdir: Path, port: int) -> subprocess.Popen:
    """An S3-API server (moto's, from the dev lock) on 127.0.0.1:``port``; it keeps the objects in memory."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = (workdir / "s3.log").open("ab")
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for_port(port, timeout=60, process=process)
    return process


def s3_connection(port: int) -> dict[str, object]:
    """The ``aws`` connection (``AIRFLOW_CONN_MLENTORY_STORAGE``) of the loopback S3 server; it takes any keys."""
    return {"conn_type": "aws", "login": "mlentory", "password": "local-s3-any-secret",
            "extra": {"endpoint_url": f"http://127.0.0.1:{port}", "region_name": "us-east-1"}}
