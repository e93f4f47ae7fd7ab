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


def papers_in_text(text: str) -> list[Mention]:
    """Every arXiv link and DOI in a text (a citation, a paper URL), each paper once."""
    found = [m for match in ARXIV_IN_TEXT.finditer(text) if (m := arxiv_mention(match.group(1)))]
    found += [doi_mention(doi) for doi in DOI.findall(text)]
    return unique(found)
