"""Retries with backoff for the source APIs, honouring ``Retry-After`` on 429 and 503; each try
within the task's stall allowance (``stalls``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx
import httpx2
import requests
from tenacity import RetryCallState, retry, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from mlentory.stalls import StallAllowanceSpent, timed_against_allowance

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
MAX_RETRY_AFTER_S = 300.0  # the Hub's rate-limit window is 5 minutes


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, StallAllowanceSpent):
        return False
    if isinstance(exc, (httpx.TransportError, httpx2.TransportError, requests.ConnectionError, requests.Timeout)):
        return True
    return _status(exc) in RETRYABLE_STATUS


def is_transient(exc: BaseException) -> bool:
    """A failure that asking again later may cure (network, timeouts, rate limits, overload), as
    opposed to an answer that will stay the same (a refusal, an unreadable document)."""
    return is_retryable(exc) or isinstance(exc, (TimeoutError, ConnectionError))


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (``Retry-After`` as seconds or HTTP date), if any."""
    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


class _WaitRetryAfterOrBackoff:
    def __init__(self, initial: float, maximum: float) -> None:
        self._backoff = wait_exponential_jitter(initial=initial, max=maximum)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after_seconds(exc)
        return asked if asked is not None else self._backoff(state)


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning("retry %d after %s (waiting %.1fs)", state.attempt_number, exc, state.upcoming_sleep)


def with_retries(attempts: int = 5, initial_wait: float = 1.0, max_wait: float = 60.0) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Retry what may pass (``is_retryable``), each try within the task's stall allowance."""
    retrying = retry(
        retry=retry_if_exception(is_retryable),
        wait=_WaitRetryAfterOrBackoff(initial_wait, max_wait),
        stop=stop_after_attempt(attempts),
        before_sleep=_log_retry,
        reraise=True,
    )
    return lambda func: retrying(timed_against_allowance(func))
