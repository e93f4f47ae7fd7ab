"""Entity linking: what a mention (``{"kind": "datasets", "key": "glue"}``) stands for, as IRIs and records.

IRIs come only from ``fair4ml.iris``, so a dataset, paper or license gets the same IRI in every run
and from every source. A mention that could not be enriched still links (to a stub record that
carries at least a name and a URL), so a model never loses a relation because a lookup failed; the
failed lookup itself is listed by the extraction stage. A mention that names nothing real (a value
of the card's ``language`` that is no language) links to nothing.
"""

from __future__ import annotations

from typing import Any

from mlentory.enrichment.licenses import LicenseInfo, identify_license
from mlentory.fair4ml import iris
from mlentory.fair4ml.models import Agent, Dataset, DefinedTerm, FAIR4MLRecord, Language, License, MLModel, ScholarlyArticle
from mlentory.settings import MLENTORY_IRI_BASE

HF_TASKS_SET = "https://huggingface.co/tasks"
KEYWORDS_SET = f"{MLENTORY_IRI_BASE}keyword/"

Linked = tuple[list[str], list[tuple[str, FAIR4MLRecord]]]  # IRIs for the mention, (kind, record) to store


def _license_record(info: LicenseInfo) -> License:
    return License(
        id=iris.spdx_license_iri(info["spdx"]) if info["spdx"] else iris.license_iri(info["key"]),
        identifier=info["spdx"] or info["key"].lower(),
        name=info["name"],
        url=info.get("url"),
    )


def _dataset(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    key = mention["key"]
    canonical = (info.get("id") or key) if info.get("found") else key
    card = info.get("card_data") or {}
    license_keys = [str(k) for k in (card.get("license") if isinstance(card.get("license"), list) else [card.get("license")]) if k]
    licenses = [_license_record(lic) for k in license_keys for lic in identify_license(k.lower())]
    iri = iris.hf_dataset_iri(canonical)
    record = Dataset(
        id=iri,
        identifier=canonical,
        name=card.get("pretty_name") if isinstance(card.get("pretty_name"), str) else canonical,
        description=(info.get("description") or "").strip()[:2_000] or None,
        url=iri,
        date_modified=info.get("last_modified"),
        source_sha=info.get("sha"),
        license=[lic.id for lic in licenses],
    )
    return [iri], [("datasets", record), *(("licenses", lic) for lic in licenses)]


def _article(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    key = mention["key"]
    if key.startswith("doi:"):
        # No DOI registry is queried: the paper is named by the title its BibTeX entry gives, or its DOI.
        doi = key.removeprefix("doi:")
        iri = iris.doi_iri(doi)
        return [iri], [("articles", ScholarlyArticle(id=iri, identifier=key, name=mention.get("title") or key, url=iri, same_as=[iri]))]
    iri = iris.arxiv_iri(key)
    if not info.get("found"):
        return [iri], [("articles", ScholarlyArticle(id=iri, identifier=f"arXiv:{key}", name=f"arXiv:{key}", url=iri))]
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


def _keyword(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    key = mention["key"]
    iri = iris.keyword_iri(key)
    return [iri], [("keywords", DefinedTerm(id=iri, name=key, term_code=iris.slug(key), in_defined_term_set=KEYWORDS_SET))]


def _task(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    key = mention["key"]
    iri = iris.task_iri(key)
    record = DefinedTerm(id=iri, name=info.get("name") or key, term_code=key, in_defined_term_set=HF_TASKS_SET,
                         description=f"modality: {info['modality']}" if info.get("modality") else None)
    return [iri], [("tasks", record)]


def _licenses(mention: dict[str, Any], info: list[LicenseInfo] | dict[str, Any]) -> Linked:
    if "name" in mention or "url" in mention:
        # The card's own licence text: its link is its IRI; without a link, its name is.
        url = mention.get("url")
        name = mention.get("name") or (identify_license(mention["text_of"])[0]["name"] if mention.get("text_of") else url)
        record = License(id=url or iris.license_iri(name), identifier=mention.get("name") or url, name=name, url=url)
        return [record.id], [("licenses", record)]
    records = [_license_record(lic) for lic in (info if isinstance(info, list) and info else identify_license(mention["key"]))]
    return [r.id for r in records], [("licenses", r) for r in records]


def _language(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    if info.get("found") is False or not info.get("alpha3"):
        return [], []
    iri = iris.language_iri(info["alpha3"])
    alternates = [c for c in dict.fromkeys((info["alpha3"], info.get("tag"))) if c and c != info.get("code")]
    record = Language(id=iri, identifier=info.get("code") or info["alpha3"], name=info.get("name") or mention["key"], alternate_name=alternates)
    return [iri], [("languages", record)]


def _organisation(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    key = mention["key"]
    iri = iris.hf_account_iri(key)
    # Organization or Person only as the Hub said; an account it could not tell stays an Account.
    record = Agent(id=iri, identifier=key, name=info.get("fullname") or key, url=iri, kind=info.get("kind") or "Account")
    return [iri], [("organisations", record)]


def _base_model(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    iri = iris.hf_model_iri(mention["key"])
    return [iri], [("base_models", MLModel(id=iri, identifier=mention["key"], name=mention["key"], url=iri, source="huggingface"))]


LINKERS = {
    "datasets": _dataset,
    "articles": _article,
    "keywords": _keyword,
    "tasks": _task,
    "licenses": _licenses,
    "languages": _language,
    "organisations": _organisation,
    "models": _base_model,
}


def link(mention: dict[str, Any], info: Any) -> Linked:
    return LINKERS[mention["kind"]](mention, info if info is not None else {})
