"""Entity linking: what a mention (``{"kind": "datasets", "key": "glue"}``) stands for, as IRIs and records.

IRIs come only from ``fair4ml.iris``, so a dataset, paper or license gets the same IRI in every run
and from every source. A mention that could not be enriched still links (to a stub record that
carries at least a name), so a model never loses a relation because a lookup failed.
"""

from __future__ import annotations

from typing import Any

from mlentory.enrichment.licenses import identify_license
from mlentory.fair4ml import iris
from mlentory.fair4ml.models import Agent, Dataset, DefinedTerm, FAIR4MLRecord, Language, License, ScholarlyArticle
from mlentory.settings import MLENTORY_IRI_BASE

HF_TASKS_SET = "https://huggingface.co/tasks"
KEYWORDS_SET = f"{MLENTORY_IRI_BASE}keyword/"

Linked = tuple[list[str], list[tuple[str, FAIR4MLRecord]]]  # IRIs for the mention, (kind, record) to store


def _license_records(entries: list[dict[str, Any]]) -> list[License]:
    return [
        License(
            id=iris.spdx_license_iri(e["spdx"]) if e["spdx"] else iris.license_iri(e["name"]),
            identifier=e["spdx"] or e["name"],
            name=e["name"],
            url=e.get("url"),
        )
        for e in entries
    ]


def _dataset(key: str, info: dict[str, Any]) -> Linked:
    canonical = info.get("id") or key if info.get("found") else key
    card = info.get("card_data") or {}
    license_keys = card.get("license") or []
    licenses = [r for k in (license_keys if isinstance(license_keys, list) else [license_keys]) for r in _license_records(identify_license(str(k).lower()))]
    iri = iris.hf_dataset_iri(canonical)
    record = Dataset(
        id=iri,
        identifier=canonical,
        name=card.get("pretty_name") or canonical,
        description=(info.get("description") or "").strip()[:2_000] or None,
        url=iri,
        date_modified=info.get("last_modified"),
        source_sha=info.get("sha"),
        license=[lic.id for lic in licenses],
    )
    return [iri], [("datasets", record), *(("licenses", lic) for lic in licenses)]


def _article(key: str, info: dict[str, Any]) -> Linked:
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


def _keyword(key: str, info: dict[str, Any]) -> Linked:
    iri = iris.keyword_iri(key)
    return [iri], [("keywords", DefinedTerm(id=iri, name=key, term_code=iris.slug(key), in_defined_term_set=KEYWORDS_SET))]


def _task(key: str, info: dict[str, Any]) -> Linked:
    iri = iris.task_iri(key)
    record = DefinedTerm(id=iri, name=info.get("name") or key, term_code=key, in_defined_term_set=HF_TASKS_SET,
                         description=f"modality: {info['modality']}" if info.get("modality") else None)
    return [iri], [("tasks", record)]


def _licenses(key: str, info: list[dict[str, Any]]) -> Linked:
    records = _license_records(info or identify_license(key))
    return [r.id for r in records], [("licenses", r) for r in records]


def _language(key: str, info: dict[str, Any]) -> Linked:
    alpha3 = info.get("alpha3")
    iri = iris.language_iri(alpha3) if alpha3 else f"{MLENTORY_IRI_BASE}language/{iris.slug(key)}"
    record = Language(id=iri, identifier=info.get("tag") or key, name=info.get("name") or key, alternate_name=[alpha3] if alpha3 else [])
    return [iri], [("languages", record)]


def _organisation(key: str, info: dict[str, Any]) -> Linked:
    iri = iris.hf_account_iri(key)
    record = Agent(id=iri, identifier=key, name=info.get("fullname") or key, url=iri, kind=info.get("kind") or "Organization")
    return [iri], [("organisations", record)]


LINKERS = {
    "datasets": _dataset,
    "articles": _article,
    "keywords": _keyword,
    "tasks": _task,
    "licenses": _licenses,
    "languages": _language,
    "organisations": _organisation,
}


def link(kind: str, key: str, info: Any) -> Linked:
    if kind == "models":
        return [iris.hf_model_iri(key)], []
    return LINKERS[kind](key, info if info is not None else {})
