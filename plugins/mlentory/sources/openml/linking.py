"""Entity linking for OpenML: its datasets, tasks, users and component flows, on top of the linkers
every source shares (papers, licences, languages, keywords; ``fair4ml.linking``). A failed lookup
still links, to a stub record named by the id."""

from __future__ import annotations

from typing import Any

from mlentory.enrichment.licenses import identify_license
from mlentory.fair4ml import iris
from mlentory.fair4ml.linking import SHARED_LINKERS, Linked, Linker, license_record, link_article, stub
from mlentory.fair4ml.mentions import iso_datetime, unique
from mlentory.fair4ml.models import Agent, Dataset, DefinedTerm, License, MLModel
from mlentory.fair4ml.papers import papers_in_text

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
    """The dataset with its licence and how to cite it: the papers its citation or paper URL names
    (DOIs, arXiv ids) get the IRIs every source gives them."""
    iri = iris.openml_dataset_iri(mention["key"])
    if not info.get("found"):
        return [iri], [stub(Dataset(id=iri, identifier=f"openml:data/{mention['key']}", name=f"OpenML dataset {mention['key']}", url=iri))]
    licences = _licences(str(info["licence"])) if info.get("licence") else []
    cited = [" ".join(str(text).split()) for text in (info.get("citation"), info.get("paper_url")) if text and str(text).strip()]
    papers = [link_article(paper, {}) for text in cited for paper in papers_in_text(text)]
    record = Dataset(
        id=iri,
        identifier=f"openml:data/{mention['key']}",
        name=info.get("name") or f"OpenML dataset {mention['key']}",
        description=(info.get("description") or "").strip()[:2_000] or None,
        url=iri,
        version=str(info["version"]) if info.get("version") is not None else None,
        date_published=iso_datetime(info.get("upload_date")),
        license=[lic.id for lic in licences],
        credit_text=_names(info.get("creator")),
        citation=unique(cited),
        reference_publication=unique(i for paper_iris, _ in papers for i in paper_iris),
        source_sha=str(info["version"]) if info.get("version") is not None else None,
    )
    return [iri], [("datasets", record), *(("licenses", lic) for lic in licences), *(r for _, records in papers for r in records)]


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
