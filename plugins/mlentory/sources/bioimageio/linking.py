"""Entity linking for the BioImage Model Zoo: its people, datasets, parent models and the
applications and notebooks models link to, on top of the linkers every source shares (papers,
licences, languages, keywords, the same model at another source; ``fair4ml.linking``); and the
collection's datasets as Dataset records of their own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlentory.enrichment.licenses import identify_license
from mlentory.fair4ml import iris
from mlentory.fair4ml.linking import SHARED_LINKERS, Linked, Linker, license_record, link_article, stub
from mlentory.fair4ml.mentions import iso_datetime, unique
from mlentory.fair4ml.models import Agent, Dataset, FAIR4MLRecord, MLModel, SoftwareApplication
from mlentory.pipeline.extraction import STAGE
from mlentory.pipeline.run_folder import RunFolder, read_jsonl
from mlentory.sources.bioimageio import SOURCE as AI4LIFE
from mlentory.sources.bioimageio.properties import citations


def _person(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    """ORCID, GitHub account or name (``properties.person_mention``): the IRI says which."""
    key, name = mention["key"], mention.get("name")
    if key.startswith("github:"):
        iri = iris.github_account_iri(key.removeprefix("github:"))
    elif key.startswith("name:"):
        iri = iris.person_iri(AI4LIFE.key, key.removeprefix("name:"))
    else:
        iri = key  # an ORCID IRI
    record = Agent(id=iri, identifier=key.removeprefix("name:"), name=name or key, url=iri if not key.startswith("name:") else None,
                   description=f"affiliation: {mention['affiliation']}" if mention.get("affiliation") else None, kind="Person")
    return [iri], [("organisations", record) if name else stub(record)]


def _dataset(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    """A dataset the model names: the collection's own record describes it (``collection_datasets``)."""
    iri = iris.bioimageio_resource_iri(mention["key"])
    return [iri], [stub(Dataset(id=iri, identifier=mention["key"], name=mention["key"], url=iri))]


def _parent(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    iri = iris.bioimageio_resource_iri(mention["key"])
    return [iri], [("base_models", MLModel(id=iri, identifier=mention["key"], name=mention["key"], url=iri, source=AI4LIFE.name))]


def _software(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    """An application (``SoftwareApplication``) or notebook (``SoftwareSourceCode``) of the
    collection that a model links to, from its own description (``extraction.software_summary``)."""
    iri = iris.bioimageio_resource_iri(mention["key"])
    if not info:  # named, but not harvested (its description was rejected or could not be read)
        return [iri], [stub(SoftwareApplication(id=iri, identifier=mention["key"], name=mention["key"], url=iri))]
    description = info.get("description") or {}
    licences = [license_record(lic) for lic in identify_license(str(description["license"]).lower())] if description.get("license") else []
    record = SoftwareApplication(
        id=iri, identifier=mention["key"], name=str(description.get("name") or mention["key"]), url=iri,
        description=str(description.get("description") or "").strip()[:2_000] or None,
        kind="SoftwareSourceCode" if info.get("type") == "notebook" else "SoftwareApplication",
        version=str(description["version"]) if description.get("version") is not None else None,
        license=[lic.id for lic in licences], code_repository=[str(description["git_repo"])] if description.get("git_repo") else [],
        source_sha=info.get("revision"),
    )
    return [iri], [("software", record), *(("licenses", lic) for lic in licences)]


LINKERS: dict[str, Linker] = {
    **SHARED_LINKERS,
    "organisations": _person,
    "datasets": _dataset,
    "models": _parent,
    "software": _software,
}


def dataset_records(resource: dict[str, Any]) -> list[tuple[str, FAIR4MLRecord]]:
    """A dataset of the collection: its record, its licence, and the papers it cites."""
    description = resource.get("description") or {}
    iri = iris.bioimageio_resource_iri(resource["id"])
    licences = [license_record(lic) for lic in identify_license(str(description["license"]).lower())] if description.get("license") else []
    cited = citations(resource)
    papers = [link_article(paper, {}) for paper in cited["referencePublication"]]
    record = Dataset(
        id=iri, identifier=resource["id"], name=description.get("name") or resource["id"], url=iri,
        description=(description.get("description") or "").strip()[:2_000] or None,
        version=str(description["version"]) if description.get("version") is not None else resource.get("version"),
        date_published=iso_datetime(description.get("timestamp")), date_modified=iso_datetime(resource.get("created_at")),
        license=[lic.id for lic in licences],
        credit_text=unique(str(a["name"]) for a in description.get("authors") or [] if isinstance(a, dict) and a.get("name")),
        citation=cited["citation"], reference_publication=unique(i for paper_iris, _ in papers for i in paper_iris),
        source_sha=resource.get("revision") or resource.get("sha256"),
    )
    return [("datasets", record), *(("licenses", lic) for lic in licences), *(r for _, records in papers for r in records)]


def collection_datasets(run: RunFolder) -> Iterator[tuple[str, FAIR4MLRecord]]:
    from mlentory.sources.bioimageio.extraction import COLLECTION_FILE

    for resource in read_jsonl(run.file(STAGE, COLLECTION_FILE)):
        if resource.get("type") == "dataset":
            yield from dataset_records(resource)
