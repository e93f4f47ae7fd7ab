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


def load(text: str, max_chars: int, what: str = "document", yaml_1_2: bool = False) -> Any:
    """The parsed document; :class:`RefusedYaml` or a parser error when it cannot be read.

    ``yaml_1_2``: read as YAML 1.2 (ruyaml's safe loader), for formats that are YAML 1.2, such as
    bioimage.io descriptions: PyYAML reads YAML 1.1, where ``no``, ``on`` or ``1:30`` are not strings."""
    if (reason := refusal(text, max_chars, what)) is not None:
        raise RefusedYaml(reason)
    if yaml_1_2:
        from ruyaml import YAML

        return YAML(typ="safe", pure=True).load(text)
    return yaml.safe_load(text)
