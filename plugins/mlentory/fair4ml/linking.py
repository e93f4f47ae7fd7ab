"""Linkers every source shares: the same paper, licence, language or keyword gets the same IRI and
the same record whichever source mentions it.

A linker turns a mention (``{"kind": "licenses", "key": "mit"}``) and what the extraction stage
identified about it into the IRIs the mention stands for and the records to store. A mention that
could not be enriched still links (to a stub record with at least a name and a URL), so a model never
loses a relation because a lookup failed; a mention that names nothing real (a value of a card's
``language`` that is no language) links to nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlentory.enrichment.licenses import LicenseInfo, identify_license, known_license
from mlentory.fair4ml import iris
from mlentory.fair4ml.models import STUBS, DefinedTerm, FAIR4MLRecord, Language, License, MLModel, ScholarlyArticle, merged_names

Linked = tuple[list[str], list[tuple[str, FAIR4MLRecord]]]  # IRIs for the mention, (kind, record) to store
Linker = Callable[[dict[str, Any], Any], Linked]


def known_license_name(record: dict[str, Any]) -> str | None:
    """The name a licence record keeps whoever names it: a licence of the Hub's list or SPDX keeps its own."""
    known = known_license(str(record.get("identifier") or ""))
    return known[0]["name"] if known and len(known) == 1 and record.get("@id") == license_record(known[0]).id else None


# Entity kinds that sources name in their own words (a card's ``license_name``): one record takes
# every name given, the same in any order and any split into runs.
NAMED_BY_MANY = frozenset({"licenses"})


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def with_names_merged(record: dict[str, Any], *others: dict[str, Any]) -> dict[str, Any]:
    """A licence record (JSON-LD) with every name the ``others`` of the same licence give it: one
    name (``merged_names``) and the rest as ``alternateName``, the same in any order."""
    names = [n for r in (record, *others) for n in (r.get("name"), *_listed(r.get("alternateName")))]
    name, alternates = merged_names(names, known_license_name(record))
    merged = {**record, "name": name}
    if alternates:
        merged["alternateName"] = alternates
    else:
        merged.pop("alternateName", None)
    return merged


def license_record(info: LicenseInfo) -> License:
    return License(
        id=iris.spdx_license_iri(info["spdx"]) if info["spdx"] else iris.license_iri(info["key"]),
        identifier=info["spdx"] or info["key"].lower(),
        name=info["name"],
        url=info.get("url"),
    )


def stub(record: FAIR4MLRecord) -> tuple[str, FAIR4MLRecord]:
    """A record that only names its resource: loaded where nothing describes it yet (``STUB_KINDS``)."""
    return STUBS, record


def link_article(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    key = mention["key"]
    if key.startswith("doi:"):
        # No DOI registry is queried: the paper is named by the title its BibTeX entry gives; a DOI
        # alone only names it (a stub, which never replaces a title another record gave).
        doi = key.removeprefix("doi:")
        iri = iris.doi_iri(doi)
        record = ScholarlyArticle(id=iri, identifier=key, name=mention.get("title") or key, url=iri, same_as=[iri])
        return [iri], [("articles", record) if mention.get("title") else stub(record)]
    iri = iris.arxiv_iri(key)
    if not info.get("found"):
        return [iri], [stub(ScholarlyArticle(id=iri, identifier=f"arXiv:{key}", name=f"arXiv:{key}", url=iri))]
    record = ScholarlyArticle(
        id=iri,
        identifier=f"arXiv:{key}",
        name=info.get("title"),
        description=info.get("summary"),
        author=info.get("authors") or [],
        date_published=info.get("published"),
        url=iri,
        same_as=[iris.doi_iri(info["doi"])] if info.get("doi") else [],
    )
    return [iri], [("articles", record)]


def link_keyword(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    key = mention["key"]
    iri = iris.keyword_iri(key)
    return [iri], [("keywords", DefinedTerm(id=iri, name=key, term_code=iris.slug(key), in_defined_term_set=iris.KEYWORDS_SET))]


def link_licenses(mention: dict[str, Any], info: list[LicenseInfo] | dict[str, Any]) -> Linked:
    if "name" in mention or "url" in mention:
        url, given = mention.get("url"), mention.get("name")
        # A known licence named by a card (``license_name: llama3``, a link to its page) is the
        # shared record of that licence, with its known name and link; the card's name is another.
        known = known_license(url) if url else known_license(given) if given else None
        if known:
            records = [license_record(lic) for lic in known]
            for record in records:
                # The licence's id written as its name ("llama3") is no other name of it.
                record.alternate_name = [given] if given and given.lower() not in ((record.name or "").lower(), (record.identifier or "").lower()) else []
            return [r.id for r in records], [("licenses", r) for r in records]
        # The card's own licence text: its link is its IRI; without a link, its name is.
        name = given or (identify_license(mention["text_of"])[0]["name"] if mention.get("text_of") else url)
        if not name:  # a mention with neither name, text nor link names no licence
            return [], []
        record = License(id=url or iris.license_iri(name), identifier=given or url, name=name, url=url)
        return [record.id], [("licenses", record)]
    records = [license_record(lic) for lic in (info if isinstance(info, list) and info else identify_license(mention["key"]))]
    return [r.id for r in records], [("licenses", r) for r in records]


def link_language(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    if info.get("found") is False or not info.get("alpha3"):
        return [], []
    iri = iris.language_iri(info["alpha3"])
    alternates = [c for c in dict.fromkeys((info["alpha3"], info.get("tag"))) if c and c != info.get("code")]
    record = Language(id=iri, identifier=info.get("code") or info["alpha3"], name=info.get("name") or mention["key"], alternate_name=alternates)
    return [iri], [("languages", record)]


def link_same_model(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    """The same model published at another source (the zoo's model on the Hub, or the other way
    round): a ``sameModel`` relationship to that source's node, which a stub names until that
    source's own record describes it."""
    iri = mention["key"]
    at = iris.model_at_source(iri)
    if at is None:
        return [], []
    source, identifier = at
    return [iri], [stub(MLModel(id=iri, identifier=identifier, name=identifier, url=iri, source=source))]


SAME_MODELS = "same_models"  # the mention kind of link_same_model

SHARED_LINKERS: dict[str, Linker] = {
    SAME_MODELS: link_same_model,
    "articles": link_article,
    "keywords": link_keyword,
    "licenses": link_licenses,
    "languages": link_language,
}
