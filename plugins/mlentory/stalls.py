"""A task's allowance for stalls.

A server that accepts connections and never answers costs a read timeout per try: five tries of 60 s
per request, one request after another, would hold a task for hours. Each task therefore has a
**stall allowance** (``STALL_ALLOWANCE_S``, ``MLENTORY_STALL_ALLOWANCE_S``): the time its requests
may spend waiting on answers that end in a timeout, all requests together. Once it is spent, the
task sends no more requests: each fails at once with ``StallAllowanceSpent`` (a transient failure:
its records are warnings or errors marked to be asked again by the next run), whose message gives
the allowance and when it was spent. Waits a server asks for (``Retry-After``) are not stalls.

Kept free of HTTP libraries: the DAG files import it (through ``pipeline.storage``) when parsed.
"""

from __future__ import annotations

import functools
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from mlentory.settings import HTTP_CONNECT_TIMEOUT_S, HTTP_READ_TIMEOUT_S, STALL_ALLOWANCE_S

log = logging.getLogger(__name__)
T = TypeVar("T")


@functools.cache
def timeouts() -> tuple[type[BaseException], ...]:
    """The exceptions the source clients raise for an answer that did not come in time."""
    import httpx
    import httpx2
    import requests

    return httpx.TimeoutException, httpx2.TimeoutException, requests.Timeout, TimeoutError, socket.timeout


class StallAllowanceSpent(TimeoutError):
    """The task's requests have spent its stall allowance: this one is not sent."""


class StallAllowance:
    """What one task's requests may spend waiting on answers that never came (see the module). Shared
    by the task's threads (its lookups run several at a time)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.spent = 0.0
        self.spent_at: datetime | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        if self.spent_at is not None:
            raise StallAllowanceSpent(
                f"not asked: this task's requests waited {self.spent:.0f} s on answers that never came, its allowance of "
                f"{self.seconds:.0f} s (MLENTORY_STALL_ALLOWANCE_S), spent at {self.spent_at:%H:%M:%S} UTC; asked again by the next run")

    def charge(self, seconds: float) -> None:
        with self._lock:
            self.spent += seconds
            if self.spent >= self.seconds and self.spent_at is None:
                self.spent_at = datetime.now(UTC)
                log.warning("the sources stalled: %.0f s of this task's %.0f-s stall allowance spent; no more requests are sent",
                            self.spent, self.seconds)


_allowance: list[StallAllowance | None] = [None]  # the running task's (one task at a time per process)


@contextmanager
def stall_allowance(seconds: float | None = None) -> Iterator[StallAllowance]:
    """A fresh stall allowance for the requests made inside the block (a task's)."""
    allowance = StallAllowance(STALL_ALLOWANCE_S if seconds is None else seconds)
    earlier, _allowance[0] = _allowance[0], allowance
    try:
        yield allowance
    finally:
        _allowance[0] = earlier


def with_stall_allowance(func: Callable[..., T]) -> Callable[..., T]:
    """Run ``func`` (a task's callable) with a stall allowance of its own."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> T:
        with stall_allowance():
            return func(*args, **kwargs)

    return run


def timed_against_allowance(func: Callable[..., T]) -> Callable[..., T]:
    """One try of a request: refused when the task's stall allowance is spent; the time it waited
    is charged to the allowance when it ends in a timeout."""

    @functools.wraps(func)
    def attempt(*args: Any, **kwargs: Any) -> T:
        allowance = _allowance[0]
        if allowance is None:
            return func(*args, **kwargs)
        allowance.check()
        started = time.monotonic()
        try:
            return func(*args, **kwargs)
        except timeouts() as exc:
            if not isinstance(exc, StallAllowanceSpent):
                # One request waited (at most its timeouts); a long call (a paged listing) that ended
                # in a timeout did useful work before it.
                allowance.charge(min(time.monotonic() - started, HTTP_CONNECT_TIMEOUT_S + HTTP_READ_TIMEOUT_S))
            raise

    return attempt


