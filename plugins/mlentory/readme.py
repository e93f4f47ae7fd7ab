"""Model documentation in Markdown (a Hub model card's body, a zoo model's documentation.md), read
the same way for every source: sections by heading, the text of the section a heading names (its
numbering, emphasis and "[optional]" ignored), the first paragraph that reads as prose, the first
code block. What a source's own template or front matter adds is the source's own."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mlentory.placeholders import is_placeholder

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*|[ivxlc]+|[a-z])[.)]\s+|^\d+(?:\.\d+)*\s+")
_TITLE_NOISE = re.compile(r"\[optional\]|[^\w\s&,/-]", re.IGNORECASE)

# FAIR4ML terms a model's documentation has a section for, by the headings that name it.
README_SECTIONS: dict[str, re.Pattern[str]] = {
    "intendedUse": re.compile(r"intended (uses?|purposes?|applications?)|^uses?$|^direct use|^use cases?|^uses and limitations"),
    "modelRisksBiasLimitations": re.compile(r"\blimitations?\b|\bbias(es)?\b|\brisks?\b|^caveats|^known issues|^out-of-scope"),
    "usageInstructions": re.compile(r"^how to (use|get started|run)|^usage|^getting started|^get started|^quick ?start|^use (with|in|the model|this model)"
                                    r"|^inference|^example usage|^examples?$|^using (the|this) model|^running the model"),
    "ethicalSocial": re.compile(r"ethic|societal impact|social impact|^safety"),
    "legal": re.compile(r"^legal|terms of use|^licen[cs]e|^licensing|^copyright"),
}
# A heading that names two things ("Intended uses & limitations") feeds only the first.
SHARED_HEADINGS = {"modelRisksBiasLimitations": README_SECTIONS["intendedUse"]}

def normalized_title(title: str) -> str:
    """"## 3. Intended Uses & Limitations [optional]" -> "intended uses & limitations"."""
    text = " ".join(re.sub(r"[*_`]", "", title).lower().split())
    text = _NUMBERING.sub("", _TITLE_NOISE.sub(" ", _NUMBERING.sub("", text)).strip())
    return " ".join(text.split()).strip(" -,:")


@dataclass(frozen=True)
class Section:
    level: int
    title: str
    text: str
    key: str = field(init=False)  # the title normalized once: every term's lookup compares it

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", normalized_title(self.title) if self.title else "")


def split_sections(body: str) -> list[Section]:
    """Sections in document order; headings inside code fences are code, not headings."""
    lines = body.splitlines()
    sections = [Section(level, title, "\n".join(lines[first:end]).strip()) for level, title, first, end in section_spans(lines)]
    return [s for s in sections if s.title or s.text]


def section_spans(lines: list[str]) -> list[tuple[int, str, int, int]]:
    """Each section as (level, title, first line, end line) of its text: the lines between its
    heading and the next (the text before the first heading is a section of level 0 without title)."""
    spans: list[tuple[int, str, int, int]] = []
    level, title, first = 0, "", 0
    in_fence = False
    for number, line in enumerate(lines):
        if FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else HEADING.match(line)
        if heading:
            spans.append((level, title, first, number))
            level, title, first = len(heading.group(1)), heading.group(2).strip(), number + 1
    spans.append((level, title, first, len(lines)))
    return spans


# A note of a card template to the card's reader or author, not about the model: "*This section
# provides information for anyone who wants to know about the model.*", "_Describe the training data._".
_EMPHASIZED_LINE = re.compile(r"^\s*(?:>\s*)?(?:\*(?!\*)(?P<a>.+?)\*|_(?!_)(?P<b>.+?)_)\s*$")
_GUIDANCE = re.compile(
    r"^(?:this (?:sub)?section\b|this part\b|it (?:is|'s) (?:useful|relevant|meant|intended) for\b|it provides information\b"
    r"|(?:please )?(?:provide|describe|list|explain|fill (?:in|out)|add|write|include|give|summari[sz]e|specify|enter|insert|state)"
    r"\s+(?:a|an|the|any|here|your|details|information|links?|what|how|who|which|relevant)\b)"
    r"|\b(?:anyone (?:who|considering|interested)|people (?:who (?:want|are interested)|interested in)|readers? (?:who|of this)"
    r"|(?:should|could) (?:go|be (?:added|filled|described|listed)) here|goes here)\b",
    re.IGNORECASE)


def is_guidance(line: str) -> bool:
    """Whether a line is a template's note to the card's reader or author (an emphasized line that
    speaks of "this section", addresses "anyone who..." or tells the author what to write), which is
    no statement about the model."""
    match = _EMPHASIZED_LINE.match(line)
    if not match:
        return False
    return bool(_GUIDANCE.search((match.group("a") or match.group("b")).strip()))


def section_text(sections: list[Section], title_pattern: re.Pattern[str], max_chars: int = 5_000, avoid: re.Pattern[str] | None = None) -> str | None:
    """Text of the first section whose normalized heading (numbering, emphasis, "[optional]" removed)
    matches ``title_pattern`` and not ``avoid``, including its sub-sections; placeholders count as absent.
    ``avoid`` keeps a heading that names two things ("Intended uses & limitations") to the first of them,
    so one text is not recorded twice."""
    matching = [i for i, s in enumerate(sections) if s.key and title_pattern.search(s.key) and not (avoid and avoid.search(s.key))]
    for index in matching:
        section = sections[index]
        parts = [section.text]
        for sub in sections[index + 1 :]:
            if sub.level <= section.level:
                break
            parts.append(f"{sub.title}\n{sub.text}" if not is_placeholder(sub.text) else "")
        text = "\n\n".join(p for p in parts if p and not is_placeholder(p)).strip()
        if text:
            return text[:max_chars]
    return None


HTML_TAG = re.compile(r"<[^>]+>")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def prose(text: str | None, max_chars: int = 2_000, min_letters: int = 40) -> str | None:
    """The first paragraph (or list) of ``text`` that reads as prose: HTML, images, badges and link
    rows are what a card shows, not what it says. Headings and code blocks are skipped."""
    if not text:
        return None
    blocks, current, in_fence = [], [], False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or HEADING.match(line):
            if current:
                blocks.append(current)
                current = []
            continue
        cleaned = _MD_IMAGE.sub("", HTML_TAG.sub("", line)).strip()
        if cleaned:
            current.append(cleaned)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    for block in blocks:
        # What the block says outside its links: a row of links or badges says nothing.
        said = [_MD_LINK.sub(" ", line) for line in block]
        if sum(c.isalpha() for line in said for c in line) >= min_letters and (
                min_letters < 40 or any(len(re.findall(r"[^\W\d_]{2,}", line)) >= 6 for line in said)):
            return "\n".join(block)[:max_chars]
    return None


_CODE_BLOCK = re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL)
# What a program printed, not what a reader runs: a traceback, an error or warning line, a log line.
_OUTPUT_LINE = re.compile(
    r"^\s*(?:Traceback \(most recent call last\)|File \"[^\"]*\", line \d+|\^+\s*$|\.\.\.\s*$"
    r"|(?:[\w.]+\.)?\w*(?:Error|Exception|Warning|Interrupt|Exit)\b\s*(?::|$)"
    r"|(?:ERROR|WARNING|WARN|CRITICAL|FATAL|INFO|DEBUG)\b[:\s]|E\s{2,}|\[?(?:error|warning)\]?:)")


def is_program_output(code: str) -> bool:
    """Whether a code block shows what a program printed when it failed (a traceback, an error
    message), not code: a card that warns "with an older version you will see ``KeyError: ...``"
    shows no sample of how to use the model."""
    lines = [line for line in code.splitlines() if line.strip()]
    if not lines:
        return True
    if lines[0].lstrip().startswith("Traceback (most recent call last)"):
        return True
    errors = [line for line in lines if _OUTPUT_LINE.match(line)]
    return bool(errors) and len(errors) * 2 >= len(lines)


def first_code_block(text: str | None) -> str | None:
    """The first code block that is code (a block of error output is skipped)."""
    if not text:
        return None
    for match in _CODE_BLOCK.finditer(text):
        code = match.group(1).strip()
        if code and not is_program_output(code):
            return code
    return None
