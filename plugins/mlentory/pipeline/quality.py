"""The error budget: one bad record never stops the others, but too many fail the run."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from mlentory.errors import PermanentFailure

log = logging.getLogger(__name__)


class ErrorRateExceeded(PermanentFailure):
    """Too many records failed: retrying the same records would fail them again."""


def check_error_rate(stage: str, errors: int, total: int, max_error_rate: float) -> None:
    if total and errors / total > max_error_rate:
        raise ErrorRateExceeded(
            f"{stage}: {errors} of {total} records failed ({errors / total:.1%}), "
            f"above max_error_rate {max_error_rate:.1%}; see the run folder's errors/"
        )


def cascade_error_rate(own: float, triggered_by_assets: bool, run_folder: str, after_stage: str) -> float:
    """The error budget a transformation or loading run applies to a run folder. Triggered through
    the Assets, it is the one the extraction was triggered with: it travels with the folder (each
    stage's summary, which is also its asset event's extra, carries it), read from the folder our own
    task wrote rather than from an event anyone with API access could write. Triggered by hand, the
    run's own param (``own``). A value that is not a share (a number from 0 to 1) is ignored."""
    if not triggered_by_assets:
        return own
    from mlentory.pipeline import storage

    summary = storage.read_json_at(run_folder, f"{after_stage}/SUCCESS.json", {}) or {}
    rate = summary.get("max_error_rate") if isinstance(summary, dict) else None
    if isinstance(rate, int | float) and not isinstance(rate, bool) and 0 <= rate <= 1:
        return float(rate)
    if rate is not None:
        log.warning("%s: the %s stage's max_error_rate %r is not a share from 0 to 1; this run's %s applies", run_folder, after_stage, rate, own)
    return own


@dataclass
class Progress:
    """Logs counts and rate once per chunk, so long runs show they are alive and how fast."""

    what: str
    total: int | None  # None: not known in advance (a dump read file by file)
    done: int = 0
    started: float = field(default_factory=time.monotonic)

    def advance(self, count: int) -> None:
        self.done += count
        elapsed = max(time.monotonic() - self.started, 1e-9)
        if self.total is None:
            log.info("%s: %d (%.0f/s)", self.what, self.done, self.done / elapsed)
        else:
            log.info("%s: %d/%d (%.0f/s)", self.what, self.done, self.total, self.done / elapsed)
