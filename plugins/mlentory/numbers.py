"""Numbers as sources write them: a value a float cannot hold is never read as another value.

``1e-400`` is no zero, yet ``float("1e-400")`` is ``0.0``: an evaluation score of that text would
become a silent zero (and ``1e400`` an infinity). Such a value is kept as its text, with the reason."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

TOO_SMALL = "too small for a float (it would read as 0.0)"
TOO_LARGE = "too large for a float (it would read as infinity)"


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
        return None, TOO_LARGE
    if value == 0.0 and exact != 0:
        return None, TOO_SMALL
    return value, None


def beyond_float(text: str) -> bool:
    """Whether ``text`` is a number a float cannot hold (it would read as 0.0 or as infinity)."""
    return as_float(text)[1] in (TOO_SMALL, TOO_LARGE)


def exact_float(text: str) -> float | str:
    """A parser's float (JSON's ``parse_float``): the number, or its text where a float cannot hold it."""
    return text if beyond_float(text) else float(text)
