"""Language identification with ``langcodes`` (BCP-47 tags, ISO 639 codes, English names).

Only a value that names a real language becomes one: ``langcodes`` accepts any well-formed tag, so a
value whose language subtag has no name in the registry (``code``, ``xx``) is not a language.
"""

from __future__ import annotations

from typing import Any

import langcodes

# Values the Hub allows in ``language:`` that are not BCP-47 tags.
ALIASES = {"multilingual": "mul"}


def identify_language(key: str) -> dict[str, Any]:
    """``{"found": True, "tag", "alpha3", "name"}`` for a language, ``{"found": False, "reason"}`` otherwise."""
    text = key.strip()
    tag = ALIASES.get(text.lower(), text)
    try:
        language = langcodes.Language.get(tag)
        if not language.language or not language.is_valid():
            raise LookupError(tag)
    except (LookupError, ValueError):
        try:  # an English name ("French") rather than a code
            language = langcodes.find(text)
        except LookupError:
            return {"found": False, "key": key, "reason": f"not a language code or name: {key!r}"}
    if "unknown language" in language.display_name().lower():
        return {"found": False, "key": key, "reason": f"not a known language: {key!r}"}
    # The record is the language (one IRI per ISO 639-3 code): named without region or script.
    return {"found": True, "key": key, "tag": language.to_tag(), "code": language.language, "alpha3": language.to_alpha3(),
            "name": langcodes.Language.get(language.language).display_name()}
