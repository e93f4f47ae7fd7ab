"""YAML from sources, read safely: plain data only (no Python tags), no aliases (a few hundred bytes
of aliases can expand into hundreds of megabytes once written out as JSON: an "alias bomb"), and a
size limit. Used for model-card front matter and bioimage.io descriptions alike.

Every read goes through libyaml (PyYAML's C parser): the pure-Python parser was three quarters of
the CPU of reading the Hub's dump (its alias check alone). YAML 1.2 documents (bioimage.io's) are
read by the same parser with the 1.2 core schema's rules for plain scalars (``CoreSchemaLoader``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import yaml

# libyaml's, where PyYAML was built with it (its wheels are); the pure-Python classes otherwise.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RefusedYaml(ValueError):
    """The document is not parsed; the message says why."""


def refusal(text: str, max_chars: int, what: str = "document") -> str | None:
    """Why the YAML is not parsed, or None when it may be (a malformed document is for the parser to report)."""
    if len(text) > max_chars:
        return f"{what} of {len(text):,} characters refused (limit {max_chars:,})"
    if "*" not in text:  # an alias is written ``*name``: without a star there is none to find
        return None
    try:
        for event in yaml.parse(text, Loader=_SAFE_LOADER):
            if isinstance(event, yaml.AliasEvent):
                return f"YAML aliases in the {what} refused (they can expand without bound)"
    except yaml.YAMLError:
        return None
    return None


class SafeLoader(_SAFE_LOADER):  # type: ignore[misc,valid-type]
    """libyaml's safe loader (YAML 1.1's plain-scalar rules, as PyYAML reads them)."""


class CoreSchemaLoader(_SAFE_LOADER):  # type: ignore[misc,valid-type]
    """libyaml's safe loader with the YAML 1.2 core schema's plain scalars: only ``true``/``false``
    are booleans (``no``, ``on`` stay text), ``010`` is ten, ``1:30`` is text, ``0o17`` is octal;
    ``null``, ``~`` and the empty scalar are null; dates and times are timestamps, as ruyaml's safe
    loader reads them."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}


def _int_1_2(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)  # ``1_000`` too, as ruyaml reads it


def _timestamp_utc(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """A time in UTC without a zone, as ruyaml's safe loader gives it (a date stays a date)."""
    value = loader.construct_yaml_timestamp(node)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _float_1_2(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text.endswith(".nan"):
        return float("nan")
    return float(text)


for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    ("tag:yaml.org,2002:float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     list("-+.0123456789")),
    # Not the core schema's, but what ruyaml's and PyYAML's safe loaders do, and what descriptions hold.
    ("tag:yaml.org,2002:timestamp", r"^(?:[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
                                    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?)$", list("0123456789")),
):
    CoreSchemaLoader.add_implicit_resolver(_tag, re.compile(_pattern), _first)
CoreSchemaLoader.add_constructor("tag:yaml.org,2002:int", _int_1_2)
CoreSchemaLoader.add_constructor("tag:yaml.org,2002:float", _float_1_2)
CoreSchemaLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_utc)


def load(text: str, max_chars: int, what: str = "document", yaml_1_2: bool = False) -> Any:
    """The parsed document; :class:`RefusedYaml` or a parser error when it cannot be read.

    ``yaml_1_2``: read as YAML 1.2 (the core schema), for formats that are YAML 1.2, such as
    bioimage.io descriptions: YAML 1.1's rules read ``no``, ``on`` or ``1:30`` as no strings."""
    if (reason := refusal(text, max_chars, what)) is not None:
        raise RefusedYaml(reason)
    return yaml.load(text, Loader=CoreSchemaLoader if yaml_1_2 else SafeLoader)  # noqa: S506 - safe loaders (libyaml's)
