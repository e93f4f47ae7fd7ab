"""Language identification with ``langcodes`` (BCP-47 tags, ISO 639-3 codes, English names)."""

from __future__ import annotations

from typing import Any

import langcodes

# Values the Hub allows in ``language:`` that are not BCP-47 tags.
ALIASES = {"multilingual": "mul"}


def identify_language(key: str) -> dict[str, Any]:
    tag = ALIASES.get(key.strip().lower(), key.strip())
    try:
        language = langcodes.Language.get(tag)
        alpha3 = language.to_alpha3()
        return {"key": key, "tag": language.to_tag(), "alpha3": alpha3, "name": language.display_name()}
    except (LookupError, ValueError):
        return {"key": key, "tag": key, "alpha3": None, "name": key}
