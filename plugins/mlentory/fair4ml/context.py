"""The JSON-LD ``@context`` (include/schemas) as the single source of term -> IRI mappings.

The graph loader derives property names, relationship types and labels from it, in the form
neosemantics (n10s) uses with ``handleVocabUris: "SHORTEN"``: ``<prefix>__<localName>``.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from mlentory.settings import CONTEXT_FILE


@functools.cache
def load_context() -> dict[str, Any]:
    with CONTEXT_FILE.open(encoding="utf-8") as handle:
        context: dict[str, Any] = json.load(handle)["@context"]
        return context


def namespace_prefixes() -> dict[str, str]:
    """Prefix -> namespace IRI, e.g. ``{"fair4ml": "https://w3id.org/fair4ml#"}``."""
    return {
        key: value
        for key, value in load_context().items()
        if isinstance(value, str) and not key.startswith("@") and value.endswith(("#", "/"))
    }


def term_curie(term: str) -> str:
    definition = load_context()[term]
    return definition if isinstance(definition, str) else definition["@id"]


def term_iri(term: str) -> str:
    prefix, local = term_curie(term).split(":", 1)
    return namespace_prefixes()[prefix] + local


def is_reference(term: str) -> bool:
    """True when the term's values are IRIs of other resources (graph relationships)."""
    definition = load_context().get(term)
    return isinstance(definition, dict) and definition.get("@type") == "@id"


def shortened(term: str) -> str:
    """The n10s SHORTEN name of a term: ``name`` -> ``schema__name``."""
    prefix, local = term_curie(term).split(":", 1)
    return f"{prefix}__{local}"
