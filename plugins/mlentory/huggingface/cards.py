"""Model cards (README.md): front matter and body split, sections found by their headings."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from huggingface_hub import ModelCard

log = logging.getLogger(__name__)

_FRONT_MATTER = re.compile(r"\A\s*---\s*\n.*?\n---\s*(\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_PLACEHOLDERS = re.compile(r"^\W*(\[?more information needed\]?|more information needed|n/?a|tbd|todo)\W*$", re.IGNORECASE)


@dataclass(frozen=True)
class Section:
    level: int
    title: str
    text: str


@dataclass(frozen=True)
class ParsedCard:
    metadata: dict[str, Any]
    body: str
    sections: list[Section] = field(default_factory=list)
    metadata_error: str | None = None

    @property
    def lead(self) -> str:
        """The text before the first heading after the title: usually the model's summary."""
        lines = [line for line in self.body.splitlines() if not _HEADING.match(line)]
        paragraphs = [p.strip() for p in "\n".join(lines).split("\n\n") if p.strip()]
        return paragraphs[0] if paragraphs else ""


def _sections(body: str) -> list[Section]:
    """Sections in document order; headings inside code fences are code, not headings."""
    sections: list[Section] = []
    current_level, current_title, current_lines = 0, "", []
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            sections.append(Section(current_level, current_title, "\n".join(current_lines).strip()))
            current_level, current_title, current_lines = len(heading.group(1)), heading.group(2).strip(), []
        else:
            current_lines.append(line)
    sections.append(Section(current_level, current_title, "\n".join(current_lines).strip()))
    return [s for s in sections if s.title or s.text]


def parse_card(content: str, metadata: dict[str, Any] | None = None, metadata_error: str | None = None) -> ParsedCard:
    """Split a README into metadata, body and sections. Pass ``metadata`` when the front matter was
    parsed before (``card_record``): YAML parsing is most of the cost of reading a card."""
    error = metadata_error
    if metadata is not None:
        body = _FRONT_MATTER.sub("", content, count=1)
    else:
        metadata = {}
        try:
            card = ModelCard(content, ignore_metadata_errors=True)
            metadata = card.data.to_dict()
            body = card.text
        except Exception as exc:  # malformed front matter must not lose the body
            error = f"{type(exc).__name__}: {exc}"
            body = _FRONT_MATTER.sub("", content, count=1)
    body = _COMMENT.sub("", body)
    sections = _sections(body)
    return ParsedCard(metadata=metadata, body=body.strip(), sections=sections, metadata_error=error)


def card_record(model_id: str, sha: str | None, text: str) -> dict[str, Any]:
    """What the run folder keeps of a card: the text and its front matter, parsed once."""
    parsed = parse_card(text)
    return {"id": model_id, "sha": sha, "text": text, "metadata": parsed.metadata, "metadata_error": parsed.metadata_error}


def card_from_record(record: dict[str, Any] | None) -> ParsedCard | None:
    if record is None:
        return None
    return parse_card(record["text"], record.get("metadata"), record.get("metadata_error"))


def is_placeholder(text: str) -> bool:
    return not text.strip() or bool(_PLACEHOLDERS.match(text.strip()))


def section_text(card: ParsedCard, titles: tuple[str, ...], max_chars: int = 5_000) -> str | None:
    """Text of the first section whose heading matches one of ``titles`` (case-insensitive),
    including its sub-sections; placeholders such as "[More Information Needed]" count as absent."""
    wanted = tuple(t.lower() for t in titles)
    for index, section in enumerate(card.sections):
        title = re.sub(r"[*_`:]", "", section.title).strip().lower()
        if title not in wanted:
            continue
        parts = [section.text]
        for sub in card.sections[index + 1 :]:
            if sub.level <= section.level:
                break
            parts.append(f"{sub.title}\n{sub.text}" if not is_placeholder(sub.text) else "")
        text = "\n\n".join(p for p in parts if p and not is_placeholder(p)).strip()
        if text:
            return text[:max_chars]
    return None


def first_code_block(text: str | None) -> str | None:
    if not text:
        return None
    match = re.search(r"```[^\n]*\n(.*?)```", text, re.DOTALL)
    return match.group(1).strip() if match else None
