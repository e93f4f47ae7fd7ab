"""Entity linking for OpenML: its datasets, tasks, users and component flows, on top of the linkers
every source shares (papers, licences, languages, keywords; ``fair4ml.linking``). A failed lookup
still links, to a stub record named by the id."""

from __future__ import annotations

from typing import Any

from mlentory.enrichment.languages import identify_language
from mlentory.enrichment.licenses import identify_license
from mlentory.fair4ml import iris
from mlentory.fair4ml.linking import SHARED_LINKERS, Linked, Linker, license_record, link_article, link_keyword, link_language, stub
from mlentory.fair4ml.mentions import iso_datetime, unique
from mlentory.fair4ml.mentions import mention as mention_of
from mlentory.fair4ml.models import Agent, Dataset, DefinedTerm, License, MLModel
from mlentory.fair4ml.papers import dois_in, papers_in_text
from mlentory.placeholders import text_or_none

# OpenML's licence field is free text; the values that name one SPDX licence unambiguously. Others
# ("Public", "CC-BY" without a version) stay licences of their own name.
OPENML_LICENCES = {"cc0": "cc0-1.0", "cc-0": "cc0-1.0", "cc0 1.0": "cc0-1.0"}


def _licences(text: str) -> list[License]:
    """SPDX where the text names an SPDX licence ("CC BY-NC-SA 4.0" -> CC-BY-NC-SA-4.0); else a
    licence of its own, named as OpenML writes it ("Public": OpenML's default, publicly available)."""
    key = " ".join(text.split()).lower()
    if key.startswith("cc"):
        key = key.replace(" ", "-")
    found = identify_license(OPENML_LICENCES.get(key, key))
    if all(lic["spdx"] for lic in found):
        return [license_record(lic) for lic in found]
    name = " ".join(text.split())
    return [License(id=iris.license_iri(name), identifier=name.lower(), name=name)]


def _names(value: Any) -> list[str]:
    """OpenML's creator/contributor: one name, several, or a list."""
    values = value if isinstance(value, list) else [value] if value else []
    return [" ".join(str(v).split()) for v in values if str(v).strip()]


def _dataset(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    """The dataset with its licence, its language, its tags (keywords), its creators, contributors
    and uploader, its whole description, and how to cite it: the papers its citation or paper URL
    names (DOIs, arXiv ids) get the IRIs every source gives them."""
    iri = iris.openml_dataset_iri(mention["key"])
    if not info.get("found"):
        return [iri], [stub(Dataset(id=iri, identifier=f"openml:data/{mention['key']}", name=f"OpenML dataset {mention['key']}", url=iri))]
    licences = _licences(str(info["licence"])) if text_or_none(info.get("licence")) else []
    cited = [" ".join(str(text).split()) for text in (info.get("citation"), info.get("paper_url")) if text_or_none(text)]
    papers = [link_article(paper, {}) for text in cited for paper in papers_in_text(text)]
    languages = [link_language(mention_of("languages", name), identify_language(name)) for name in _names(info.get("language")) if text_or_none(name)]
    keywords = [link_keyword(mention_of("keywords", tag), {}) for tag in _names(info.get("tags"))]
    contributors = [Agent(id=iris.person_iri("openml", name), name=name, kind="Person") for name in _names(info.get("contributor")) if text_or_none(name)]
    uploader = _uploader(info)
    record = Dataset(
        id=iri,
        identifier=f"openml:data/{mention['key']}",
        name=info.get("name") or f"OpenML dataset {mention['key']}",
        description=text_or_none(info.get("description")),
        url=iri,
        version=str(info["version"]) if info.get("version") is not None else None,
        date_published=iso_datetime(info.get("upload_date")),
        license=[lic.id for lic in licences],
        in_language=unique(i for language_iris, _ in languages for i in language_iris),
        keywords=unique(i for keyword_iris, _ in keywords for i in keyword_iris),
        credit_text=[name for name in _names(info.get("creator")) if text_or_none(name)],
        contributor=[agent.id for agent in contributors],
        publisher=[uploader[1].id] if uploader else [],
        citation=unique(cited),
        reference_publication=unique(i for paper_iris, _ in papers for i in paper_iris),
        source_sha=str(info["version"]) if info.get("version") is not None else None,
        same_dataset=same_data(info),
    )
    return [iri], [("datasets", record), *(("licenses", lic) for lic in licences), *(r for _, records in papers for r in records),
                   *(r for _, records in (*languages, *keywords) for r in records), *(("organisations", agent) for agent in contributors),
                   *([uploader] if uploader else [])]


def same_data(info: dict[str, Any]) -> list[str]:
    """The same data at another source, as the data set states it: the Hub dataset its origin
    (``original_data_url``) or description links to, the DOI its origin is. Another OpenML data set
    it came from is no other source's (``anneal`` d/1 is a cleaned d/2): left out."""
    origin = text_or_none(info.get("original_data_url")) or ""
    doi = dois_in(origin)[:1] if "doi.org/" in origin.lower() else []
    stated = " ".join(str(text) for text in (origin, info.get("description")) if text)
    return list(dict.fromkeys([*iris.hf_dataset_pages_in(stated), *(iris.doi_iri(d) for d in doi)]))


def _uploader(info: dict[str, Any]) -> tuple[str, Agent] | None:
    """The OpenML user who uploaded the dataset: named where the extraction could name them, else a
    stub named by the id (the extraction listed it as a warning)."""
    user = str(info.get("uploader") or "")
    if not user.isdigit():
        return None
    linked = _user(mention_of("organisations", user), {"name": info.get("uploader_name")} if info.get("uploader_name") else {})
    return linked[1][0]


def _task(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    """A task is evaluated as its type (Supervised Classification, ...): the mlTask term."""
    task_type = info.get("task_type")
    if not task_type:
        iri = iris.openml_task_iri(mention["key"])
        return [iri], [stub(DefinedTerm(id=iri, name=f"OpenML task {mention['key']}", term_code=mention["key"]))]
    iri = iris.task_type_iri(task_type)
    return [iri], [("tasks", DefinedTerm(id=iri, name=task_type, term_code=iris.slug(task_type), in_defined_term_set=iris.OPENML_TASK_TYPES_SET))]


def _user(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    iri = iris.openml_user_iri(mention["key"])
    record = Agent(id=iri, identifier=f"openml:user/{mention['key']}", name=info.get("name") or f"OpenML user {mention['key']}", url=iri, kind="Person")
    return [iri], [("organisations", record) if info.get("name") else stub(record)]


def _component(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    iri = iris.openml_flow_iri(mention["key"])
    return [iri], [("base_models", MLModel(id=iri, identifier=mention["key"], name=f"OpenML flow {mention['key']}", url=iri, source="openml"))]


LINKERS: dict[str, Linker] = {
    **SHARED_LINKERS,
    "datasets": _dataset,
    "tasks": _task,
    "organisations": _user,
    "models": _component,
}
