"""YAML from sources, read safely: plain data only (no Python tags), no aliases (a few hundred bytes
of aliases can expand into hundreds of megabytes once written out as JSON: an "alias bomb"), and a
size limit. Used for model-card front matter and bioimage.io descriptions alike."""

from __future__ import annotations

from typing import Any

import yaml


class RefusedYaml(ValueError):
    """The document is not parsed; the message says why."""


def refusal(text: str, max_chars: int, what: str = "document") -> str | None:
    """Why the YAML is not parsed, or None when it may be (a malformed document is for the parser to report)."""
    if len(text) > max_chars:
        return f"{what} of {len(text):,} characters refused (limit {max_chars:,})"
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                return f"YAML aliases in the {what} refused (they can expand without bound)"
    except yaml.YAMLError:
        return None
    return None


def load(text: str, max_chars: int, what: str = "document") -> Any:
    """The parsed document; :class:`RefusedYaml` or ``yaml.YAMLError`` when it cannot be read."""
    if (reason := refusal(text, max_chars, what)) is not None:
        raise RefusedYaml(reason)
    return yaml.safe_load(text)
