"""Entity linking for the Hub: its datasets, tasks, accounts and base models, on top of the linkers
every source shares (papers, licences, languages, keywords; ``fair4ml.linking``).

IRIs come only from ``fair4ml.iris``. A failed lookup still links, to a stub record.
"""

from __future__ import annotations

import json
from typing import Any

from mlentory.enrichment.licenses import identify_license
from mlentory.fair4ml import iris
from mlentory.fair4ml.linking import SHARED_LINKERS, Linked, Linker, license_record, stub
from mlentory.fair4ml.models import Agent, Dataset, DefinedTerm, MLModel
from mlentory.sources.huggingface.properties import OPENML_DATASET_KEY


def _dataset(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    key = mention["key"]
    if key.startswith(OPENML_DATASET_KEY):  # described by the OpenML source; named here
        openml_id = key.removeprefix(OPENML_DATASET_KEY)
        iri = iris.openml_dataset_iri(openml_id)
        return [iri], [stub(Dataset(id=iri, identifier=f"openml:data/{openml_id}", name=f"OpenML dataset {openml_id}", url=iri))]
    canonical = (info.get("id") or key) if info.get("found") else key
    card = info.get("card_data") or {}
    license_keys = [str(k) for k in (card.get("license") if isinstance(card.get("license"), list) else [card.get("license")]) if k]
    licenses = [license_record(lic) for k in license_keys for lic in identify_license(k.lower())]
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
        same_dataset=same_data(info) if info.get("found") else [],
    )
    if not info.get("found"):
        return [iri], [stub(record)]  # not found, or the lookup failed: named only
    return [iri], [("datasets", record), *(("licenses", lic) for lic in licenses)]


def same_data(info: dict[str, Any]) -> list[str]:
    """The same data at another source, as the Hub dataset itself states it: an OpenML data set its
    card or description links to, and the DOI the Hub minted for it (``doi:`` tag; an OpenML data set
    whose origin is that DOI points at it too). Never by name alone: OpenML holds several data sets
    of one name (``iris`` version 1 and 3 are two)."""
    stated = json.dumps([info.get("card_data"), info.get("description")], default=str)
    dois = [iris.doi_iri(tag.removeprefix("doi:")) for tag in info.get("tags") or [] if isinstance(tag, str) and tag.startswith("doi:")]
    return list(dict.fromkeys([*iris.openml_dataset_pages_in(stated), *dois]))


def _task(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    key = mention["key"]
    iri = iris.task_iri(key)
    record = DefinedTerm(id=iri, name=info.get("name") or key, term_code=key, in_defined_term_set=iris.HF_TASKS_SET,
                         description=f"modality: {info['modality']}" if info.get("modality") else None)
    return [iri], [("tasks", record)]


def _organisation(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    key = mention["key"]
    iri = iris.hf_account_iri(key)
    # Organization or Person only as the Hub said; an account it could not tell stays an Account.
    record = Agent(id=iri, identifier=key, name=info.get("fullname") or key, url=iri, kind=info.get("kind") or "Account")
    return [iri], [("organisations", record) if info.get("kind") else stub(record)]


def _base_model(mention: dict[str, Any], info: dict[str, Any]) -> Linked:
    iri = iris.hf_model_iri(mention["key"])
    return [iri], [("base_models", MLModel(id=iri, identifier=mention["key"], name=mention["key"], url=iri, source="huggingface"))]


LINKERS: dict[str, Linker] = {
    **SHARED_LINKERS,
    "datasets": _dataset,
    "tasks": _task,
    "organisations": _organisation,
    "models": _base_model,
}


def link(mention: dict[str, Any], info: Any) -> Linked:
    return LINKERS[mention["kind"]](mention, info if info is not None else {})
