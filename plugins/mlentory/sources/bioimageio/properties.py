"""FAIR4ML properties of a BioImage Model Zoo model, one pure function per property group.

Each group reads the harvested resource (``extraction.resource_record``: the index's id, version,
sha256, source and date, and the description as the spec's library validated it, in the latest
format) and returns a partial record with mentions, as every source's groups do. The rules:
- the model is an ``MLModel`` at its bioimage.io page; its version is the description's ``version``
  (the collection's version label, "v0", where it has none); ``timestamp`` is when it was created,
  the version's date when it was last modified; the concept DOI (``config._conceptdoi``, or a Zenodo
  DOI as the resource id) is ``sameAs`` and the archive (``archivedAt``); the Hub's page of the same
  model, where the description links to one, is ``sameModel`` (a relationship to the Hub's node);
- ``documentation`` is the ``readme`` (its URL beside the description); ``covers`` are ``image``;
- ``authors`` are ``creator``, ``maintainers`` ``maintainer`` and ``uploader`` ``sharedBy``, as
  people: their ORCID where given (one node across sources), else their GitHub account, else
  their name within the zoo;
- ``cite`` is ``citation`` (text with its DOI or URL) and the papers it names ``referencePublication``
  (DOI and arXiv IRIs shared with every source); ``license`` is SPDX, ``tags`` keywords;
- ``git_repo`` is ``codeRepository``; ``parent`` is what it was fine-tuned from; ``training_data``
  is ``trainedOn`` (a dataset of the collection); ``links`` to the collection's applications,
  notebooks and datasets are ``relatedResource``; each resource named by its id in the collection,
  whichever id the description used (``collection_ids``, resolved by the extraction);
- the weight formats (with their framework versions) are ``softwareRequirements``; the
  architecture's callable is the ``modelCategory``.
Inputs and outputs (axes, shapes) have no home in FAIR4ML or schema.org and are left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mlentory import readme
from mlentory.fair4ml import iris
from mlentory.fair4ml.linking import SAME_MODELS
from mlentory.fair4ml.mentions import WARNINGS, Partial, iso_datetime, mention, unique
from mlentory.fair4ml.papers import doi_mention, papers_in_text
from mlentory.readme import README_SECTIONS, SHARED_HEADINGS
from mlentory.sources.bioimageio.client import file_url

WEIGHT_FRAMEWORK_VERSIONS = {
    "pytorch_state_dict": "pytorch_version", "torchscript": "pytorch_version", "onnx": "opset_version",
    "tensorflow_saved_model_bundle": "tensorflow_version", "keras_hdf5": "tensorflow_version",
}


def _description(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.get("description") or {}


def _concept_doi(resource: dict[str, Any]) -> str | None:
    description = _description(resource)
    config = description.get("config") if isinstance(description.get("config"), dict) else {}
    for candidate in (config.get("_conceptdoi"), resource["id"], description.get("id")):
        if isinstance(candidate, str) and candidate.startswith("10."):
            return candidate
    return None


def _file_source(value: Any) -> str | None:
    """A file a description names: a file description (``{"source": ...}``, format 0.5) or its path
    or URL alone (0.4 and older, which a description read in its own format keeps)."""
    source = value.get("source") if isinstance(value, dict) else value
    return source.strip() if isinstance(source, str) and source.strip() else None


def basic(resource: dict[str, Any]) -> Partial:
    description = _description(resource)
    doi = _concept_doi(resource)
    documentation = _file_source(description.get("documentation"))
    return {
        "name": description.get("name") or resource["id"],
        "description": (description.get("description") or "").strip() or None,
        "version": str(description["version"]) if description.get("version") is not None else resource.get("version"),
        "url": iris.bioimageio_resource_iri(resource["id"]),
        "dateCreated": iso_datetime(description.get("timestamp")),
        "dateModified": iso_datetime(resource.get("created_at")),
        "sameAs": [iris.doi_iri(doi)] if doi else [],
        # The Hub's copy of the model, where the description links to one: one model, two nodes, linked.
        "sameModel": [mention(SAME_MODELS, page) for page in iris.hf_model_pages_in(json.dumps(description))],
        "archivedAt": iris.doi_iri(doi) if doi else None,
        "readme": file_url(resource["source"], documentation) if documentation else None,
        "image": unique(file_url(resource["source"], source) for c in description.get("covers") or [] if (source := _file_source(c))),
        "codeRepository": [description["git_repo"]] if description.get("git_repo") else [],
        "isAccessibleForFree": True,
    }


def person_mention(person: dict[str, Any]) -> dict[str, Any] | None:
    """A person of a description, keyed by what identifies them best (ORCID, GitHub account, name)."""
    if not isinstance(person, dict):
        return None
    name = (person.get("name") or "").strip() or None
    orcid = iris.orcid_iri(str(person["orcid"])) if person.get("orcid") else None
    if orcid:
        return mention("organisations", orcid, name=name, affiliation=person.get("affiliation"))
    if person.get("github_user"):
        return mention("organisations", f"github:{person['github_user']}", name=name, affiliation=person.get("affiliation"))
    return mention("organisations", f"name:{name}", name=name, affiliation=person.get("affiliation")) if name else None


def people(resource: dict[str, Any]) -> Partial:
    description = _description(resource)

    def mentions(people: Any) -> list[dict[str, Any]]:
        return unique(m for person in people or [] if (m := person_mention(person)))

    uploader = description.get("uploader")
    return {"creator": mentions(description.get("authors")), "maintainer": mentions(description.get("maintainers")),
            "sharedBy": mentions([uploader] if isinstance(uploader, dict) else [])}


def citations(resource: dict[str, Any]) -> Partial:
    texts, papers = [], []
    for cite in _description(resource).get("cite") or []:
        if not isinstance(cite, dict):
            continue
        where = cite.get("doi") and f"https://doi.org/{cite['doi']}" or cite.get("url")
        texts.append(" ".join(part for part in (cite.get("text"), where) if part))
        if cite.get("doi"):
            papers.append(doi_mention(str(cite["doi"])))
        elif cite.get("url"):
            papers += papers_in_text(str(cite["url"]))
    return {"citation": unique(t for t in texts if t), "referencePublication": unique(papers)}


def licences_keywords(resource: dict[str, Any]) -> Partial:
    description = _description(resource)
    licence = description.get("license")
    return {"license": [mention("licenses", str(licence).lower())] if licence else [],
            "keywords": [mention("keywords", str(tag)) for tag in unique(str(t).strip() for t in description.get("tags") or [] if str(t).strip())]}


def collection_id(resource: dict[str, Any], named: str) -> dict[str, Any] | None:
    """The collection's id and type of a resource the description names (by whichever id it
    gives: the index's, the description's own older one, a nickname), as the extraction resolved
    it; None when the collection has no such resource."""
    return (resource.get("collection_ids") or {}).get(named.strip())


def lineage_data(resource: dict[str, Any]) -> Partial:
    """``parent``: the model this one was fine-tuned from; ``training_data``: a dataset of the
    collection. Each by its id in the collection, so that it is the node the collection describes."""
    description = _description(resource)

    def named_id(part: Any) -> str | None:
        named = str(part["id"]).strip() if isinstance(part, dict) and part.get("id") else None
        return (collection_id(resource, named) or {"id": named})["id"] if named else None

    parent, training = named_id(description.get("parent")), named_id(description.get("training_data"))
    base = [mention("models", parent)] if parent else []
    return {"fineTunedFrom": base, "isBasedOn": base, "trainedOn": [mention("datasets", training)] if training else []}


RELATED_KINDS = {"dataset": "datasets", "model": "models", "application": "software", "notebook": "software"}


def related(resource: dict[str, Any]) -> Partial:
    """``links``: other resources of the collection the model is linked to (applications that run
    it, notebooks that train it, datasets), as ``relatedResource``. A link that names nothing in
    the collection is said in a warning; a web address links to no resource and is left out."""
    mentions, notes = [], []
    for link in _description(resource).get("links") or []:
        if not isinstance(link, str) or "://" in link or not link.strip():
            continue
        found = collection_id(resource, link)
        kind = RELATED_KINDS.get(str((found or {}).get("type")))
        if found and kind:
            mentions.append(mention(kind, found["id"]))
        else:
            notes.append({"what": "links", "reason": f"{link[:100]}: not a resource of the collection"})
    return {"relatedResource": unique(mentions), WARNINGS: notes}


def technical(resource: dict[str, Any]) -> Partial:
    weights = _description(resource).get("weights") or {}
    requirements, categories = [], []
    for weight_format, entry in weights.items():
        if not isinstance(entry, dict):
            continue
        version = entry.get(WEIGHT_FRAMEWORK_VERSIONS.get(weight_format, ""))
        requirements.append(f"{weight_format} ({WEIGHT_FRAMEWORK_VERSIONS[weight_format].removesuffix('_version')} {version})"
                            if version else weight_format)
        architecture = entry.get("architecture")
        if isinstance(architecture, dict) and architecture.get("callable"):
            categories.append(str(architecture["callable"]))
    return {"softwareRequirements": unique(requirements), "modelCategory": unique(categories)}


def documentation(resource: dict[str, Any]) -> Partial:
    """The documentation's sections that FAIR4ML has a term for (usage, intended use, limitations,
    ...), by the same headings as a Hub card's; the first code block of the usage is the code sample."""
    text = resource.get("documentation")
    if not text:
        return {}
    sections = readme.split_sections(text)
    partial: Partial = {term: readme.section_text(sections, pattern, avoid=SHARED_HEADINGS.get(term))
                        for term, pattern in README_SECTIONS.items()}
    partial["codeSampleSnippet"] = readme.first_code_block(partial.get("usageInstructions"))
    return partial


PROPERTY_GROUPS: dict[str, Callable[[dict[str, Any]], Partial]] = {
    "basic": basic,
    "people": people,
    "citations": citations,
    "licences_keywords": licences_keywords,
    "lineage_data": lineage_data,
    "related": related,
    "technical": technical,
    "documentation": documentation,
}

GROUPS_MENTIONING: dict[str, tuple[str, ...]] = {
    "organisations": ("people",),
    "articles": ("citations",),
    "licenses": ("licences_keywords",),
    "keywords": ("licences_keywords",),
    "datasets": ("lineage_data", "related"),
    "software": ("related",),
}
