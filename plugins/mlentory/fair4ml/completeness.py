"""How complete a model's metadata is: which of the FAIR4ML fields a catalogue user relies on are
filled, for every source alike (a record in JSON-LD terms).

The score is the share of ``FIELDS`` filled. ``MINIMUM`` is the rule a catalogue can filter on
("only models with a licence, a task and a description"), in the spirit of MLentory's
minimum-metadata requirement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# A field a catalogue user relies on -> the JSON-LD terms any of which fills it.
FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "description": ("description",),
    "license": ("license",),
    "task": ("mlTask",),
    "creator": ("creator", "sharedBy", "author"),
    "dates": ("dateCreated", "datePublished", "dateModified"),
    "keywords": ("keywords",),
    "training_data": ("trainedOn",),
    "evaluations": ("hasEvaluation",),
    "code": ("codeRepository", "codeSampleSnippet"),
    "readme": ("readme",),
}
MINIMUM = ("license", "task", "description")


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {})


def filled_fields(record: Mapping[str, Any]) -> list[str]:
    """The ``FIELDS`` the record fills, in their order."""
    return [name for name, terms in FIELDS.items() if any(_filled(record.get(term)) for term in terms)]


def completeness(record: Mapping[str, Any]) -> dict[str, Any]:
    """``{"score": 0..1, "filled": [...], "missing": [...], "minimum": bool}`` of a model record."""
    filled = filled_fields(record)
    return {
        "score": round(len(filled) / len(FIELDS), 4),
        "filled": filled,
        "missing": [name for name in FIELDS if name not in filled],
        "minimum": all(name in filled for name in MINIMUM),
    }
