"""Placeholders: what a source writes where it has no value ("None", "N/A", "-", "TBD", "[More
Information Needed]"). A placeholder is never a value, in any field of any source: a card's
``revision: None`` is no dataset revision, an OpenML ``"NA"`` no description.

The rule is on the whole value: "None" is a placeholder, "None of the above" is text.
"""

from __future__ import annotations

import re
from typing import Any

# Compared after lower-casing and trimming the punctuation around them ("[TBD]", "*N/A*", "None.").
PLACEHOLDER_WORDS = frozenset({
    "none", "null", "nil", "nan", "na", "n/a", "n.a", "n. a", "not applicable", "not available",
    "unknown", "unspecified", "not specified", "undefined", "tbd", "tba", "tbc", "todo", "to do",
    "to be added", "to be announced", "to be determined", "coming soon", "more information needed",
    "more info needed", "needs more information", "optional", "xxx", "your name", "your model name",
})
_AROUND = re.compile(r"^[\W_]+|[\W_]+$")
_LEADING = re.compile(r"[\W_]*")
LONGEST_PLACEHOLDER = max(map(len, PLACEHOLDER_WORDS))


def is_placeholder(value: Any) -> bool:
    """Whether ``value`` says nothing: empty, punctuation only ("-", "—", "?", "..."), or a
    placeholder word. Numbers and booleans are values; other non-text values are not judged here."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    stripped = value.strip()
    if not stripped:
        return True
    if len(stripped) > 2 * LONGEST_PLACEHOLDER:
        # A long text (a whole card section) is judged by the length of what lies between its
        # leading and trailing punctuation, without lower-casing and trimming all of it.
        core_length = len(stripped) - _LEADING.match(stripped).end() - _LEADING.match(stripped[::-1]).end()  # type: ignore[union-attr]
        if core_length > LONGEST_PLACEHOLDER:
            return False
    core = _AROUND.sub("", stripped.lower())
    # "n/a" and "n.a." keep their inner punctuation; only what surrounds them is trimmed.
    return not core or core in PLACEHOLDER_WORDS or core.rstrip(".") in PLACEHOLDER_WORDS


def text_or_none(value: Any) -> str | None:
    """``value`` as stripped text, or None where it is no text or a placeholder."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = str(value).strip()
    return None if is_placeholder(text) else text
