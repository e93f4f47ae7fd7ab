"""Numbers as sources write them: a value a float cannot hold is never read as another value.

``1e-400`` is no zero, yet ``float("1e-400")`` is ``0.0``: an evaluation score of that text would
become a silent zero (and ``1e400`` an infinity). Such a value is kept as its text, with the reason."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation


def as_float(text: str) -> tuple[float | None, str | None]:
    """``text`` as a finite float, or (None, why not): not a number, not finite, or beyond what a
    float holds (too small: it would read as 0.0; too large: as infinity)."""
    cleaned = text.strip().replace("_", "")
    try:
        exact = Decimal(cleaned)
    except (InvalidOperation, ValueError):
        return None, "not a number"
    if not exact.is_finite():
        return None, "not a finite number"
    value = float(exact)
    if math.isinf(value):
        return None, "too large for a float (it would read as infinity)"
    if value == 0.0 and exact != 0:
        return None, "too small for a float (it would read as 0.0)"
    return value, None
