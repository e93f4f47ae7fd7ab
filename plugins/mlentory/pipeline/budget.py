"""One request budget per external API, shared by every task and DAG that calls it.

A source's rate limit is a number of requests per time window for one token (the Hub: 1,000 API
and 5,000 file-resolver requests per 5 minutes on a free token). Tasks of several DAGs call the same
API at once, each in its own process, on any worker: the requests they sent in the current window
are kept in one-second buckets, updated under an exclusive lock, so the budget is the same for all
of them. Where they are kept (``shared_budget``): in Redis when the ``mlentory_state`` connection
names a server (workers on several hosts, no shared disk needed; a Redis lock), else in
``<data_root>/budget/<api>.json`` (the data root every worker shares; a file lock).

- ``acquire()`` before each request: it waits until the window has room, so a run never exceeds its
  budget and never fails because of it (what must be asked, a listing page, is asked later).
- ``reserve(n)`` for what can wait: enrichment takes at once as much of the window's room as its
  lookups need, up to what is left, and defers the rest to a later run
  (``pipeline.extraction.CachedLookups``). The room taken is recorded at once, so two tasks asking
  together never both count on it (they would then wait a window out); this process's requests
  spend it without touching the file again.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mlentory.pipeline.run_folder import read_json, write_json
from mlentory.pipeline.state import exclusive

log = logging.getLogger(__name__)

# The requests this process sent, per API (the run report counts them per task: ``pipeline.report``).
REQUESTS_SENT: Counter[str] = Counter()


@dataclass(frozen=True)
class Allowance:
    """``requests`` per ``window_seconds`` (a sliding window) for the API named ``api``."""

    api: str
    requests: int
    window_seconds: float


class Buckets(Protocol):
    """Where a budget's buckets are kept: read and written only while ``locked``."""

    def locked(self) -> Any: ...  # a context manager
    def read(self) -> list[list[float]]: ...
    def write(self, buckets: list[list[float]]) -> None: ...


class FileBuckets:
    """``<folder>/<api>.json`` under a POSIX file lock: for workers that share the data root's disk."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def locked(self) -> Any:
        return exclusive(self.path)

    def read(self) -> list[list[float]]:
        buckets: list[list[float]] = read_json(self.path, [])
        return buckets

    def write(self, buckets: list[list[float]]) -> None:
        write_json(self.path, buckets)


class RedisBuckets:
    """One Redis key per API under a Redis lock: for workers on several hosts. The key expires a
    window after its last write (nothing of it is needed after)."""

    def __init__(self, client: Any, key: str, window_seconds: float) -> None:
        self.client, self.key, self.ttl = client, key, max(1, math.ceil(window_seconds) + 1)

    @contextmanager
    def locked(self) -> Iterator[None]:
        # The lock expires by itself if its holder dies (a worker killed mid-request).
        with self.client.lock(f"{self.key}:lock", timeout=30, blocking_timeout=600):
            yield

    def read(self) -> list[list[float]]:
        raw = self.client.get(self.key)
        return json.loads(raw) if raw else []

    def write(self, buckets: list[list[float]]) -> None:
        self.client.set(self.key, json.dumps(buckets), ex=self.ttl)


class RequestBudget:
    def __init__(self, where: Path | Buckets, allowance: Allowance, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # a clock and a sleep of their own in tests
        """``where``: a folder (the buckets in ``<folder>/<api>.json``) or a ``Buckets`` store."""
        self.buckets: Buckets = FileBuckets(Path(where) / f"{allowance.api}.json") if isinstance(where, str | Path) else where
        self.allowance = allowance
        self._clock, self._sleep = clock, sleep
        self._reserved = 0  # requests this process took from the window and has not sent yet
        self._reserved_lock = threading.Lock()  # lookups run in threads

    def _recent(self, now: float) -> list[list[float]]:
        """[second, requests] buckets still inside the window."""
        # A bucket holds the requests of one whole second: it leaves the window a second after its
        # start does, so that no request is forgotten early.
        start = now - self.allowance.window_seconds
        return [bucket for bucket in self.buckets.read() if bucket[0] + 1 > start]

    def available(self) -> int:
        """Requests that may be sent now without waiting."""
        with self.buckets.locked():
            return max(0, self.allowance.requests - int(sum(count for _, count in self._recent(self._clock()))))

    def reserve(self, requests: int) -> int:
        """Take up to ``requests`` of the window's room now, without waiting, for this process's
        next requests. Returns how many were granted (0 when the window is spent)."""
        with self.buckets.locked():
            now = self._clock()
            buckets = self._recent(now)
            granted = max(0, min(requests, self.allowance.requests - int(sum(count for _, count in buckets))))
            if granted:
                self._record(buckets, now, granted)
        with self._reserved_lock:
            self._reserved += granted
        return granted

    def _record(self, buckets: list[list[float]], now: float, requests: int) -> None:
        second = math.floor(now)
        if buckets and buckets[-1][0] == second:
            buckets[-1][1] += requests
        else:
            buckets.append([second, requests])
        self.buckets.write(buckets)

    def acquire(self, requests: int = 1) -> float:
        """Record ``requests`` about to be sent, waiting first until the window has room for them
        (or spending what ``reserve`` took). Returns the seconds waited."""
        REQUESTS_SENT[self.allowance.api] += requests
        with self._reserved_lock:
            if self._reserved >= requests:
                self._reserved -= requests
                return 0.0
        requests = min(requests, self.allowance.requests)
        waited = 0.0
        while True:
            with self.buckets.locked():
                now = self._clock()
                buckets = self._recent(now)
                used = sum(count for _, count in buckets)
                if used + requests <= self.allowance.requests:
                    self._record(buckets, now, requests)
                    return waited
                # Room comes back as the oldest buckets leave the window.
                freed, pause = 0.0, float(self.allowance.window_seconds)
                for second, count in buckets:
                    freed += count
                    if used - freed + requests <= self.allowance.requests:
                        pause = second + 1 + self.allowance.window_seconds - now
                        break
            pause = max(pause, 0.05)
            if waited == 0.0:
                log.info("%s: the budget of %d requests per %gs is spent; waiting %.1fs", self.allowance.api,
                         self.allowance.requests, self.allowance.window_seconds, pause)
            self._sleep(pause)
            waited += pause


def budget_folder(data_root: str | Path) -> Path:
    return Path(data_root) / "budget"


def shared_budget(allowance: Allowance) -> RequestBudget:
    """The budget every task and worker shares: in the Redis the ``mlentory_state`` connection names
    (host, port, password; extra ``db``), else in the data root (a local one: a data root in object
    storage has no file lock)."""
    from mlentory.connections import state_redis
    from mlentory.pipeline import storage
    from mlentory.pipeline.storage import data_root

    workspace = storage.current_workspace()
    client = workspace.state_redis("the request budgets every worker shares") if workspace else state_redis()
    if client is None:
        return RequestBudget(budget_folder(data_root()), allowance)
    return RequestBudget(RedisBuckets(client, f"mlentory:budget:{allowance.api}", allowance.window_seconds), allowance)
