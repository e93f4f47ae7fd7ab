"""Papers named in free text, the same way for every source: an arXiv id or a DOI becomes an
``articles`` mention whose key is what the paper's IRI is minted from (``fair4ml.iris``), so a paper
cited by a Hub card and by an OpenML dataset is one node.

- arXiv ids without their version (``2106.09685``), also when written as arXiv's DOI
  (``10.48550/arXiv.2106.09685``);
- other DOIs lower-cased, as ``doi:<doi>`` (DOIs are case-insensitive).
"""

from __future__ import annotations

import re

from mlentory.fair4ml.mentions import Mention, mention, unique

ARXIV_IN_TEXT = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", re.IGNORECASE)
ARXIV_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?$", re.IGNORECASE)
DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>{}\[\]()|,;]+)", re.IGNORECASE)
ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
ARXIV_VERSION = re.compile(r"v\d+$")
# DOI without its leading word boundary: a pattern that starts with a literal is scanned for by that
# literal, ~40x faster over a model card than one starting with ``\b`` (the boundary is checked after).
_DOI_FROM_PREFIX = re.compile(r"10\.\d{4,9}/[^\s\"'<>{}\[\]()|,;]+")


def normalize_doi(doi: str) -> str:
    return doi.strip().rstrip(".").lower()


def arxiv_mention(arxiv_id: str) -> Mention | None:
    return mention("articles", ARXIV_VERSION.sub("", arxiv_id)) if ARXIV_ID.match(arxiv_id) else None


def doi_mention(doi: str, title: str | None = None) -> Mention:
    """A DOI's paper: arXiv's own DOIs name the arXiv paper."""
    doi = normalize_doi(doi)
    arxiv = ARXIV_DOI.match(doi)
    if arxiv and (found := arxiv_mention(arxiv.group(1))):
        return found
    return mention("articles", f"doi:{doi}", title=title)


def dois_in(text: str) -> list[str]:
    """Every DOI in ``text``, as ``DOI.findall`` finds them."""
    found, position = [], 0
    while match := _DOI_FROM_PREFIX.search(text, position):
        start = match.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            position = start + 1  # inside a word: not a DOI's start, but one may begin further on
            continue
        found.append(match.group(0))
        position = match.end()
    return found


def arxiv_ids_in(text: str) -> list[str]:
    """Every arXiv id a link in ``text`` names (its version kept)."""
    # The case-insensitive pattern has no literal to scan for: it is tried only where the lower-cased
    # text has one (most texts name no arXiv page at all).
    lowered = text.lower()
    if len(lowered) != len(text):  # a letter whose lower case is longer: positions would not match
        return [match.group(1) for match in ARXIV_IN_TEXT.finditer(text)]
    found, position = [], lowered.find("arxiv.org/")
    while position != -1:
        if match := ARXIV_IN_TEXT.match(text, position):
            found.append(match.group(1))
        position = lowered.find("arxiv.org/", position + 1)
    return found


def papers_in_text(text: str) -> list[Mention]:
    """Every arXiv link and DOI in a text (a citation, a paper URL), each paper once."""
    found = [m for arxiv_id in arxiv_ids_in(text) if (m := arxiv_mention(arxiv_id))]
    found += [doi_mention(doi) for doi in dois_in(text)]
    return unique(found)
