"""One request budget per external API, shared by every task and DAG that calls it.

A source's rate limit is a number of requests per time window for one token (the Hub: 1,000 API
and 5,000 file-resolver requests per 5 minutes on a free token). Tasks of several DAGs call the same
API at once, each in its own process, on any worker: the requests they sent in the current window
are kept in ``<data_root>/budget/<api>.json`` (the data root every worker shares), updated under an
exclusive lock, in one-second buckets, so the budget is the same for all of them.

- ``acquire()`` before each request: it waits until the window has room, so a run never exceeds its
  budget and never fails because of it (what must be asked, a listing page, is asked later).
- ``reserve(n)`` for what can wait: enrichment takes at once as much of the window's room as its
  lookups need, up to what is left, and defers the rest to a later run
  (``pipeline.extraction.cached_lookups``). The room taken is recorded at once, so two tasks asking
  together never both count on it (they would then wait a window out); this process's requests
  spend it without touching the file again.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

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


class RequestBudget:
    def __init__(self, folder: Path, allowance: Allowance, clock=time.time, sleep=time.sleep) -> None:  # noqa: ANN001 - clocks for tests
        self.path = Path(folder) / f"{allowance.api}.json"
        self.allowance = allowance
        self._clock, self._sleep = clock, sleep
        self._reserved = 0  # requests this process took from the window and has not sent yet
        self._reserved_lock = threading.Lock()  # lookups run in threads

    def _recent(self, now: float) -> list[list[float]]:
        """[second, requests] buckets still inside the window."""
        # A bucket holds the requests of one whole second: it leaves the window a second after its
        # start does, so that no request is forgotten early.
        start = now - self.allowance.window_seconds
        return [bucket for bucket in read_json(self.path, []) if bucket[0] + 1 > start]

    def available(self) -> int:
        """Requests that may be sent now without waiting."""
        with exclusive(self.path):
            return max(0, self.allowance.requests - sum(count for _, count in self._recent(self._clock())))

    def reserve(self, requests: int) -> int:
        """Take up to ``requests`` of the window's room now, without waiting, for this process's
        next requests. Returns how many were granted (0 when the window is spent)."""
        with exclusive(self.path):
            now = self._clock()
            buckets = self._recent(now)
            granted = max(0, min(requests, self.allowance.requests - sum(count for _, count in buckets)))
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
        write_json(self.path, buckets)

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
            with exclusive(self.path):
                now = self._clock()
                buckets = self._recent(now)
                used = sum(count for _, count in buckets)
                if used + requests <= self.allowance.requests:
                    self._record(buckets, now, requests)
                    return waited
                # Room comes back as the oldest buckets leave the window.
                freed, pause = 0, self.allowance.window_seconds
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
