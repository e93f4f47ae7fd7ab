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
