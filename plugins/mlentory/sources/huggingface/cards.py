"""Model cards (README.md): front matter and body split, template boilerplate removed, sections found
by their headings.

Many cards are written from the Hub's model card template and keep its placeholders ("[More
Information Needed]"), its instructions and its links (the carbon calculator, Lacoste et al.). Those
lines are removed before anything is read from the body, so template text never becomes a value: the
template itself is read from the installed ``huggingface_hub`` (the one the Hub fills in), so the list
of its lines cannot drift from it.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import huggingface_hub
import yaml
from huggingface_hub import ModelCardData
from huggingface_hub.repocard import REGEX_YAML_BLOCK

from mlentory import readme, safe_yaml
from mlentory.numbers import beyond_float
from mlentory.readme import FENCE as _FENCE
from mlentory.readme import HEADING as _HEADING
from mlentory.readme import HTML_TAG as _HTML_TAG
from mlentory.readme import Section, first_code_block, is_guidance, is_placeholder, normalized_title, prose
from mlentory.sources.huggingface import CARD_TEMPLATES_FILE

log = logging.getLogger(__name__)

_FRONT_MATTER = re.compile(r"\A\s*---\s*\n.*?\n---\s*(\n|\Z)", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# A line that still carries a template placeholder says nothing about the model, whatever else it has.
_PLACEHOLDER_IN_LINE = re.compile(r"\[?more information needed\]?|\{\{.*?\}\}", re.IGNORECASE)
# "- **Developed by:**" with the value left empty.
_EMPTY_LABEL = re.compile(r"^\s*(?:[-*+]\s*)?\*\*[^*]{1,80}\*\*:?\s*$")
_JINJA_DEFAULT = re.compile(r"\{\{[^}]*?default\(\s*\"([^\"]*)\"[^}]*\}\}")
_JINJA = re.compile(r"\{\{.*?\}\}")
# Sentences that generators (transformers' push_to_hub, the Trainer) put in every card they write.
GENERATED_SENTENCES = (
    "This is the model card of a 🤗 transformers model that has been pushed on the Hub. This model card has been automatically generated.",
    "This model card has been generated automatically according to the information the Trainer had access to. You should probably proofread and complete it, then remove this comment.",
    "This model card has been generated automatically according to the information Keras had access to. You should probably proofread and complete it, then remove this comment.",
)


def _normalized_line(line: str) -> str:
    return " ".join(line.split()).lower()


@functools.cache
def template_lines() -> frozenset[str]:
    """Every non-heading line of the Hub's model card template as the Hub renders it with nothing
    filled in (each ``{{ x | default("...") }}`` becomes its default), of the installed
    ``huggingface_hub`` and of every earlier version (``CARD_TEMPLATES_FILE``: lines and the
    author notes, which some editors keep as text), and the generators' sentences."""
    template = Path(huggingface_hub.__file__).parent / "templates" / "modelcard_template.md"
    text = _COMMENT.sub("", template.read_text(encoding="utf-8"))
    text = _FRONT_MATTER.sub("", text, count=1)
    lines = set()
    for line in text.splitlines():
        rendered = _JINJA.sub("", _JINJA_DEFAULT.sub(lambda m: m.group(1), line)).strip()
        if rendered and not _HEADING.match(rendered):
            lines.add(_normalized_line(rendered))
    earlier = json.loads(CARD_TEMPLATES_FILE.read_text(encoding="utf-8"))
    lines.update(_normalized_line(s) for s in (*earlier["lines"], *earlier["notes"], *GENERATED_SENTENCES))
    return frozenset(lines)


@functools.cache
def template_links() -> frozenset[str]:
    """The links the template carries (the carbon calculator, Lacoste et al. 2019): many cards copy
    them into their own words, and they are never the model's code or its paper."""
    return frozenset(re.findall(r"https?://[^\s)\]>]+", " ".join(template_lines())))


def is_boilerplate(line: str) -> bool:
    stripped = line.strip()
    if not stripped or stripped[0] == "#" and _HEADING.match(stripped):
        return False
    normalized = _normalized_line(stripped)
    if normalized in template_lines() or is_guidance(stripped):
        return True
    # The regexes only where their literals occur: this runs on every line of every card.
    if ("more information needed" in normalized or "{{" in stripped) and _PLACEHOLDER_IN_LINE.search(stripped):
        return True
    if stripped[0] == "<" and "://" not in stripped and _HTML_TAG.sub("", stripped).strip().lower() in ("", "click to expand"):
        return True  # markup only ("<details>", "<summary>Click to expand</summary>"): nothing said
    return "**" in stripped and bool(_EMPTY_LABEL.match(stripped))


def boilerplate_lines(lines: list[str]) -> list[int]:
    """The numbers of the template and placeholder lines. Code blocks are kept whole."""
    numbers = []
    in_fence = False
    for number, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and is_boilerplate(line):
            numbers.append(number)
    return numbers


def _split_out(lines: list[str], numbers: list[int]) -> tuple[list[str], str]:
    """(the lines but ``numbers``, those lines as text)."""
    removed = set(numbers)
    return [line for number, line in enumerate(lines) if number not in removed], "\n".join(lines[number] for number in numbers)


def strip_boilerplate(body: str) -> tuple[str, str]:
    """(the body without template and placeholder lines, the removed lines). Code blocks are kept whole."""
    lines = body.splitlines()
    kept, removed = _split_out(lines, boilerplate_lines(lines))
    return "\n".join(kept), removed


@dataclass(frozen=True)
class ParsedCard:
    metadata: dict[str, Any]
    body: str
    sections: list[Section] = field(default_factory=list)
    metadata_error: str | None = None
    boilerplate: str = ""  # the template and placeholder lines removed from the body


MAX_FRONT_MATTER_CHARS = 256_000


def unsafe_front_matter(content: str) -> str | None:
    """Why the card's YAML front matter is not parsed, or None when it may be.

    YAML aliases let a few hundred bytes expand into hundreds of megabytes once the metadata is
    written out as JSON (an "alias bomb"); no model card needs them. Very large front matter is
    refused too. The body is still read.
    """
    match = _FRONT_MATTER.match(content)
    if not match:
        return None
    front_matter = match.group(0)
    if len(front_matter) > MAX_FRONT_MATTER_CHARS:
        return f"front matter of {len(front_matter):,} characters refused (limit {MAX_FRONT_MATTER_CHARS:,})"
    return safe_yaml.refusal(front_matter.strip().strip("-"), MAX_FRONT_MATTER_CHARS, "front matter")


def _read_front_matter(content: str) -> tuple[dict[str, Any], str]:
    """(metadata, body) as ``huggingface_hub.ModelCard`` reads them (its block pattern, its card
    data class), with libyaml's safe loader: the pure-Python one that ModelCard uses was nine tenths
    of reading a card (ten times slower on the recorded cards, with the same result)."""
    match = REGEX_YAML_BLOCK.search(content)
    if not match:
        return {}, content
    data = yaml.load(match.group(2), Loader=_SAFE_LOADER) or {}  # noqa: S506 - a safe loader (C or Python)
    if not isinstance(data, dict):
        raise ValueError("repo card metadata block should be a dict")
    metadata = ModelCardData(**data, ignore_metadata_errors=True).to_dict()
    # The model-index as written: the card data class regroups its results by a key without the
    # dataset's name, or drops it whole where it cannot read one (``model_index``).
    metadata.pop("model-index", None)
    metadata.update({key: data[key] for key in ("model-index", "model_index") if data.get(key) is not None})
    return metadata, content[match.end():]


class _SAFE_LOADER(safe_yaml.SafeLoader):  # noqa: N801 - libyaml's where installed
    """A safe loader whose floats are exact: one a float cannot hold (``1.0e-400`` would read as 0.0)
    stays text, for the mapping to keep and report."""


def _exact_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float | str:
    value = loader.construct_yaml_float(node)
    # Only a zero or an infinity can be a number the float lost (``.inf`` itself is no number text).
    return node.value if (value == 0.0 or math.isinf(value)) and beyond_float(node.value) else value


_SAFE_LOADER.add_constructor("tag:yaml.org,2002:float", _exact_float)


def read_metadata(content: str) -> tuple[dict[str, Any], str | None, str]:
    """(the front matter's metadata, why it was not read or None, the body)."""
    if (refused := unsafe_front_matter(content)) is not None:
        return {}, refused, _FRONT_MATTER.sub("", content, count=1)
    try:
        metadata, body = _read_front_matter(content)
    except Exception as exc:  # malformed front matter must not lose the body
        return {}, f"{type(exc).__name__}: {exc}", _FRONT_MATTER.sub("", content, count=1)
    return metadata, None, body


def parse_card(content: str, metadata: dict[str, Any] | None = None, metadata_error: str | None = None) -> ParsedCard:
    """Split a README into metadata, body and sections. Pass ``metadata`` when the front matter was
    parsed before (``card_record``): YAML parsing is most of the cost of reading a card."""
    if metadata is not None:
        error, body = metadata_error, _FRONT_MATTER.sub("", content, count=1)
    else:
        metadata, error, body = read_metadata(content)
    body, boilerplate = strip_boilerplate(_COMMENT.sub("", body))
    sections = readme.split_sections(body)
    return ParsedCard(metadata=metadata, body=body.strip(), sections=sections, metadata_error=error, boilerplate=boilerplate)


def card_record(model_id: str, sha: str | None, text: str) -> dict[str, Any]:
    """What the run folder keeps of a card, read once when the card arrives: the text, its front
    matter parsed, and the body's layout (``card_layout``), from which the later steps (mentions,
    transformation) rebuild the parsed card without reading it again."""
    metadata, error, _ = read_metadata(text)
    return {"id": model_id, "sha": sha, "text": text, "metadata": metadata, "metadata_error": error, "layout": card_layout(text)}


def card_layout(text: str) -> dict[str, Any]:
    """Where the body starts (after the front matter), which of its lines (comments removed) are
    template boilerplate, and its sections as (level, title, first, end) over the other lines:
    line numbers, not a second copy of the text."""
    start = match.end() if (match := _FRONT_MATTER.match(text)) else 0
    lines = _COMMENT.sub("", text[start:]).splitlines()
    boilerplate = boilerplate_lines(lines)
    return {"body_start": start, "boilerplate": boilerplate, "sections": readme.section_spans(_split_out(lines, boilerplate)[0])}


def card_from_layout(text: str, metadata: dict[str, Any], metadata_error: str | None, layout: dict[str, Any]) -> ParsedCard:
    """The card ``parse_card`` reads, rebuilt from its ``card_layout``: a split and a few joins."""
    kept, boilerplate = _split_out(_COMMENT.sub("", text[layout["body_start"]:]).splitlines(), layout["boilerplate"])
    sections = [Section(level, title, "\n".join(kept[first:end]).strip()) for level, title, first, end in layout["sections"]]
    return ParsedCard(metadata=metadata, body="\n".join(kept).strip(), sections=[s for s in sections if s.title or s.text],
                      metadata_error=metadata_error, boilerplate=boilerplate)


def card_from_record(record: dict[str, Any] | None) -> ParsedCard | None:
    if record is None:
        return None
    if record.get("layout") is not None:
        return card_from_layout(record["text"], record.get("metadata") or {}, record.get("metadata_error"), record["layout"])
    return parse_card(record["text"], record.get("metadata"), record.get("metadata_error"))  # a run folder of an earlier version


def section_text(card: ParsedCard, title_pattern: re.Pattern[str], max_chars: int = 5_000, avoid: re.Pattern[str] | None = None) -> str | None:
    """``readme.section_text`` of the card's sections."""
    return readme.section_text(card.sections, title_pattern, max_chars, avoid)


__all__ = ["ParsedCard", "Section", "card_from_record", "card_record", "first_code_block", "is_placeholder", "normalized_title",
           "parse_card", "read_metadata", "prose", "section_text", "strip_boilerplate", "template_links", "template_lines", "unsafe_front_matter"]
