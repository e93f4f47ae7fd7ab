"""The data root (``data_root``: a local folder every worker shares, or object storage) and the
tasks that work on it (``staged_task``, which names the run-folder parameters a task is given).

A data root in object storage (``s3://bucket/prefix``, any scheme Airflow's ``ObjectStoragePath``
knows) serves workers that share no disk.

The stages work on local files (JSON Lines written atomically, read as streams). With a data root in
object storage each task works in a **workspace** of its own, a fresh local folder that stands in for
the data root while the task runs:

- before the task, the run folders its ``run_folders`` parameters name are downloaded into it (and
  the source's ``inputs/``); a task declared with ``run_listing`` that is given none (creating a run
  folder, choosing which to work on, housekeeping) gets every run folder's files as empty stand-ins
  carrying their modification time, which is all it reads;
- after the task, what it wrote under ``<source>/runs/`` is uploaded and what it removed is deleted.
  The run folder contract makes every task write files of its own (one error file per task part,
  one output per chunk), so no two tasks upload the same object;
- the shared state outside the run folders (loaded revisions, deferred lookups, API caches, the
  history and its digests) is read-modified-written only under ``state.exclusive``: with a remote
  data root that is a Redis lock (the ``mlentory_state`` connection) around downloading the files it
  guards and uploading what changed, so two workers never interleave their updates of one file.

The workspace is removed when the task ends, whether it succeeded or not: nothing of the state or of
a run stays on a worker's disk, and a retry starts from what the object storage holds.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# The connection an object-storage data root is reached with, unless its URI names one
# (``s3://conn_id@bucket/prefix``): for S3, an ``aws`` connection (keys, ``endpoint_url``, region).
STORAGE_CONN_ID = "mlentory_storage"
# Where the workspaces are made (a worker's local scratch space): ``MLENTORY_SCRATCH_DIR``, else the
# system's temporary folder.
SCRATCH_VARIABLE = "MLENTORY_SCRATCH_DIR"
# A lock on shared state is given up by itself this long after its holder died (a killed worker);
# a living holder renews it while it works, however long that takes.
STATE_LOCK_TIMEOUT_S = 120
STATE_LOCK_WAIT_S = 3600


def is_remote(data_root: str) -> bool:
    """Whether ``data_root`` names object storage (a URI) rather than a local folder."""
    return "://" in data_root and not data_root.startswith("file://")


def storage_path(uri: str) -> Any:  # airflow.sdk.ObjectStoragePath
    from airflow.sdk import ObjectStoragePath

    scheme, rest = uri.split("://", 1)
    named_connection = "@" in rest.split("/", 1)[0]
    return ObjectStoragePath(uri) if named_connection else ObjectStoragePath(uri, conn_id=STORAGE_CONN_ID)


def _file_state(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def _keep_modification_time(path: Path, info: dict[str, Any]) -> None:
    """Give a local copy the object's modification time (what housekeeping reads)."""
    modified = info.get("LastModified") or info.get("mtime")
    if modified is not None and hasattr(modified, "timestamp"):
        os.utime(path, (modified.timestamp(), modified.timestamp()))


def _files(folder: Path) -> Iterator[Path]:
    """Every finished file under ``folder`` (an atomic write's temporary file is not one)."""
    if folder.is_dir():
        for path in folder.rglob("*"):
            if path.is_file() and not path.name.endswith(".tmp"):
                yield path


@dataclass
class Workspace:
    """One task's local stand-in for a data root in object storage (see the module)."""

    uri: str  # the data root, without a trailing slash
    local: Path
    snapshot: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    staged_run_folders: set[str] = field(default_factory=set)

    @functools.cached_property
    def root(self) -> Any:  # ObjectStoragePath
        return storage_path(self.uri)

    @property
    def fs(self) -> Any:  # an fsspec file system
        return self.root.fs

    def key(self, relative: str) -> str:
        return f"{self.root.path.rstrip('/')}/{relative}" if relative else self.root.path.rstrip("/")

    def relative(self, path: Path) -> str:
        return path.relative_to(self.local).as_posix()

    # What travels through XCom and asset events: the object-storage URI, never the workspace path.
    def to_local(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(self.uri + "/"):
            return str(self.local / value[len(self.uri) + 1:])
        if isinstance(value, list | tuple):
            return type(value)(self.to_local(item) for item in value)
        return value

    def to_remote(self, value: Any) -> Any:
        prefix = str(self.local) + "/"
        if isinstance(value, str) and (value == str(self.local) or value.startswith(prefix)):
            return f"{self.uri}/{value[len(prefix):]}".rstrip("/")
        if isinstance(value, dict):
            return {key: self.to_remote(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.to_remote(item) for item in value)
        return value

    # Downloading ---------------------------------------------------------------------------------
    def _listing(self, relative: str) -> dict[str, dict[str, Any]]:
        """The objects under ``relative`` (a folder) or the object ``relative`` (a file), by key."""
        key = self.key(relative)
        self.fs.invalidate_cache(key)
        return {name: info for name, info in self.fs.find(key, detail=True).items()
                if name == key or name.startswith(key + "/")}

    def _relative_of_key(self, key: str) -> str:
        return key[len(self.key("")) + 1:]

    def pull(self, relative: str) -> int:
        """Download the objects under ``relative`` (a folder) or the object ``relative``; local files
        there that the storage no longer holds are removed. Returns how many objects there are."""
        listing = self._listing(relative)
        wanted = {self.local / self._relative_of_key(key): info for key, info in listing.items()}
        base = self.local / relative
        for path in list(_files(base)) if base.is_dir() else ([base] if base.is_file() else []):
            if path not in wanted:
                path.unlink()
        if wanted:
            for path in wanted:
                path.parent.mkdir(parents=True, exist_ok=True)
            self.fs.get(list(listing), [str(path) for path in wanted])
        for path, info in wanted.items():
            _keep_modification_time(path, info)
        return len(wanted)

    def stage_run_folder(self, relative: str) -> None:
        """A run folder (``<source>/runs/<name>``) with its content, and its source's ``inputs/``."""
        objects = self.pull(relative)
        (self.local / relative).mkdir(parents=True, exist_ok=True)
        self.pull(f"{relative.split('/', 1)[0]}/inputs")
        self.staged_run_folders.add(relative)
        log.info("staged %s from %s (%d objects)", relative, self.uri, objects)

    def stage_run_listing(self) -> None:
        """Every source's run folders, their files as empty stand-ins with their modification times."""
        listing = self._listing("")
        run_files = [self._relative_of_key(key) for key in listing]
        run_files = [name for name in run_files if name.count("/") >= 3 and name.split("/")[1] == "runs"]
        for name in run_files:
            path = self.local / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
            _keep_modification_time(path, listing[self.key(name)])
        self.staged_run_folders.update("/".join(name.split("/")[:3]) for name in run_files)
        # A folder was last changed when the newest object in it was (what housekeeping reads).
        folders = sorted({path for runs in self.local.glob("*/runs") for path in runs.rglob("*") if path.is_dir()},
                         key=lambda path: len(path.parts), reverse=True)
        for folder in folders:
            newest = max((child.stat().st_mtime for child in folder.iterdir()), default=None)
            if newest is not None:
                os.utime(folder, (newest, newest))
        log.info("listed %d run files under %s", len(run_files), self.uri)

    # Uploading -----------------------------------------------------------------------------------
    def _run_files(self) -> dict[str, tuple[int, int, int]]:
        return {self.relative(path): _file_state(path) for runs in self.local.glob("*/runs") for path in _files(runs)}

    def take_snapshot(self) -> None:
        self.snapshot = self._run_files()

    def push(self) -> None:
        """Upload what the task wrote under ``<source>/runs/``; delete what it removed (a run folder
        removed whole, by housekeeping, goes with every object it holds)."""
        gone_folders = sorted(name for name in self.staged_run_folders if not (self.local / name).is_dir())
        in_gone_folder = {name for name in self.snapshot if any(name.startswith(folder + "/") for folder in gone_folders)}
        uploaded, deleted = self._sync_up({name: state for name, state in self.snapshot.items() if name not in in_gone_folder},
                                          self._run_files())
        for folder in gone_folders:
            if self._listing(folder):
                self.fs.rm(self.key(folder), recursive=True)
        if uploaded or deleted or gone_folders:
            log.info("to %s: uploaded %d files, deleted %d, removed %d run folders", self.uri, uploaded, deleted, len(gone_folders))

    def _sync_up(self, before: dict[str, tuple[int, int, int]], after: dict[str, tuple[int, int, int]]) -> tuple[int, int]:
        """Upload the files new or changed since ``before``, delete the objects of those removed."""
        changed = sorted(name for name, state in after.items() if before.get(name) != state)
        removed = sorted(name for name in before if name not in after)
        if changed:
            self.fs.put([str(self.local / name) for name in changed], [self.key(name) for name in changed])
        if removed:
            self.fs.rm([self.key(name) for name in removed])
        return len(changed), len(removed)

    # Shared state --------------------------------------------------------------------------------
    def state_redis(self, needed_for: str) -> Any:
        """The ``mlentory_state`` Redis client, which a data root in object storage cannot do without."""
        from mlentory.connections import state_redis
        from mlentory.errors import PermanentFailure

        client = state_redis()
        if client is None:
            raise PermanentFailure(f"a data root in object storage ({self.uri}) needs the mlentory_state connection "
                                   f"(a Redis server) for {needed_for}")
        return client

    def refresh(self, path: Path) -> None:
        """The storage's current copy of a state file (or folder), before reading it unlocked."""
        self.pull(self.relative(path))

    @contextmanager
    def locked(self, lock: Path, guarded: Iterable[Path]) -> Iterator[None]:
        """Hold the Redis lock named after ``lock``; the ``guarded`` files and folders are downloaded
        first and what changed in them uploaded when the block ends without an error."""
        client = self.state_redis("the locks on its shared state")
        names = [self.relative(path) for path in guarded]
        # Not thread-local: the thread that renews the lock must see its token.
        with _renewed(client.lock(f"mlentory:lock:{self.uri}/{self.relative(lock)}", timeout=STATE_LOCK_TIMEOUT_S,
                                  blocking_timeout=STATE_LOCK_WAIT_S, thread_local=False)):
            for name in names:
                self.pull(name)
            before = self._guarded_files(names)
            yield
            self._sync_up(before, self._guarded_files(names))

    def _guarded_files(self, guarded: list[str]) -> dict[str, tuple[int, int, int]]:
        paths = [self.local / name for name in guarded]
        files = [file for path in paths for file in (_files(path) if path.is_dir() else [path] if path.is_file() else [])]
        return {self.relative(file): _file_state(file) for file in files}


@contextmanager
def _renewed(lock: Any) -> Iterator[None]:
    """Hold a Redis lock, renewing its expiry from a thread while the block runs."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(STATE_LOCK_TIMEOUT_S / 4):
            lock.reacquire()

    with lock:
        renewer = threading.Thread(target=renew, name="mlentory-state-lock", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()


_current: contextvars.ContextVar[Workspace | None] = contextvars.ContextVar("mlentory_workspace", default=None)


def current_workspace() -> Workspace | None:
    """The workspace of the task running in this process, if its data root is in object storage."""
    return _current.get()


def workspace_holding(path: Path) -> Workspace | None:
    workspace = _current.get()
    if workspace is not None and (path == workspace.local or workspace.local in path.parents):
        return workspace
    return None


def to_local(value: Any) -> Any:
    """A run folder's URI (from an asset event or a param) as the path of its copy in the current
    workspace; anything else unchanged."""
    workspace = _current.get()
    return workspace.to_local(value) if workspace else value


def refresh(path: Path) -> Path:
    """``path`` of shared state, downloaded afresh first when the data root is in object storage."""
    workspace = workspace_holding(path)
    if workspace is not None:
        workspace.refresh(path)
    return path


@contextmanager
def workspace(data_root: str) -> Iterator[Workspace]:
    """A fresh workspace for ``data_root`` (object storage), current while the block runs, removed after."""
    scratch = Path(os.environ.get(SCRATCH_VARIABLE) or Path(tempfile.gettempdir()) / "mlentory-scratch")
    scratch.mkdir(parents=True, exist_ok=True)
    # Without symlinks: run folders are resolved (``run_folder.inside``), and only paths under the
    # workspace as named here are given back as URIs.
    scratch = scratch.resolve()
    space = Workspace(data_root.rstrip("/"), scratch / uuid.uuid4().hex)
    space.local.mkdir()
    token = _current.set(space)
    try:
        yield space
    finally:
        _current.reset(token)
        shutil.rmtree(space.local, ignore_errors=True)


def configured_data_root() -> str:
    """A local folder every worker shares, or object storage (``s3://bucket/prefix``, reached with the
    ``mlentory_storage`` connection): the Airflow Variable ``mlentory_data_root`` (or
    ``AIRFLOW_VAR_MLENTORY_DATA_ROOT``)."""
    from airflow.sdk import Variable

    from mlentory.settings import DATA_ROOT_VARIABLE, DEFAULT_DATA_ROOT

    return str(Variable.get(DATA_ROOT_VARIABLE, default=str(DEFAULT_DATA_ROOT)))


def data_root() -> str:
    """The folder a task works in: the configured data root, or with one in object storage the task's
    workspace standing in for it (``staged``)."""
    space = current_workspace()
    return str(space.local) if space else configured_data_root()


def staged(configured_root: Callable[[], str], run_folders: tuple[str, ...] = (),
           run_listing: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a task's callable: with a data root in object storage (``configured_root()``) it runs
    in a workspace, given the local copies of the run folders its parameters ``run_folders`` name
    (a reference or a list of them), or, with ``run_listing``, when they name none, every source's run
    folders as empty stand-ins (to choose, create or remove run folders). What it returns or puts on
    its asset events names them by URI. With a local data root the callable runs as it is.

    A callable that declares neither, or names a parameter it does not have, is refused when
    decorated (a DAG import error): it would silently get an empty workspace."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(func)
        if not run_folders and not run_listing:
            raise TypeError(f"{func.__name__}: a staged task names its run-folder parameters (run_folders=...) "
                            "or asks for the run listing (run_listing=True)")
        if unknown := [name for name in run_folders if name not in signature.parameters]:
            raise TypeError(f"{func.__name__}: run_folders names parameters it does not have: {', '.join(unknown)}")

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            root = configured_root()
            if not is_remote(root):
                return func(*args, **kwargs)
            arguments = signature.bind_partial(*args, **kwargs).arguments
            with workspace(root) as space:
                given = [arguments[name] for name in run_folders if arguments.get(name)]
                refs = [ref for value in given for ref in (value if isinstance(value, list) else [value])]
                relatives = [ref[len(space.uri) + 1:] for ref in refs if isinstance(ref, str) and ref.startswith(space.uri + "/")]
                for relative in relatives:
                    space.stage_run_folder(relative)
                if run_listing and not relatives:
                    space.stage_run_listing()
                space.take_snapshot()
                result = func(*space.to_local(args), **{name: space.to_local(value) for name, value in kwargs.items()})
                _name_outlets_by_uri(space, arguments.get("outlet_events"))
                space.push()
                return space.to_remote(result)

        return run

    return decorate


def staged_task(*, run_folders: tuple[str, ...] = (), run_listing: bool = False, **task_arguments: Any) -> Callable[[Callable[..., Any]], Any]:
    """Airflow's ``@task`` for a task that works on the data root (``staged``: with one in object
    storage it runs in a workspace of its own, given the local copies of the run folders its
    ``run_folders`` parameters name, or the run listing), with a stall allowance of its own for its
    requests to the sources (``stalls``). ``task_arguments`` go to Airflow's ``@task``."""
    from airflow.sdk import task

    from mlentory.stalls import with_stall_allowance

    def decorate(func: Callable[..., Any]) -> Any:
        return task(**task_arguments)(staged(configured_data_root, run_folders, run_listing)(with_stall_allowance(func)))

    return decorate


def _name_outlets_by_uri(space: Workspace, outlet_events: Any) -> None:
    if outlet_events is None:
        return
    from airflow.sdk import get_current_context

    for outlet in getattr(get_current_context()["task"], "outlets", []) or []:
        accessor = outlet_events[outlet]
        if accessor.extra:
            accessor.extra = space.to_remote(dict(accessor.extra))


def write_json_at(folder: str, relative: str, value: Any) -> None:
    """Write one JSON file into a run folder named by its path or, in object storage, its URI
    (outside a task's workspace: a task's callback)."""
    from mlentory.pipeline.run_folder import dumps, write_json

    if is_remote(folder):
        storage_path(f"{folder.rstrip('/')}/{relative}").write_text(dumps(value))
    else:
        write_json(Path(folder) / relative, value)


def write_text_at(folder: str, relative: str, text: str) -> None:
    """Write one text file under a folder named by its path or, in object storage, its URI."""
    if is_remote(folder):
        storage_path(f"{folder.rstrip('/')}/{relative}").write_text(text)
    else:
        path = Path(folder) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def read_json_at(folder: str, relative: str, default: Any = None) -> Any:
    """Read one JSON file of a run folder named by its path or its URI; ``default`` when missing."""
    from mlentory.pipeline.run_folder import loads, read_json

    if not is_remote(folder):
        return read_json(Path(folder) / relative, default)
    path = storage_path(f"{folder.rstrip('/')}/{relative}")
    return loads(path.read_bytes()) if path.exists() else default
