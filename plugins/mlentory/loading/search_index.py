"""Index FAIR4ML model records in Elasticsearch for search: one flat document per model.

Document ids are derived from the model IRI, so re-indexing replaces a document in place (no
duplicates, no stale fields) in every run and from every source.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk

from mlentory.fair4ml.iris import HF_BASE
from mlentory.settings import ES_MODELS_MAPPING_FILE

log = logging.getLogger(__name__)


def document_id(iri: str) -> str:
    return hashlib.sha256(iri.encode("utf-8")).hexdigest()


def ensure_index(es: Elasticsearch, index: str) -> str:
    """Create the index with the explicit mapping, or bring an existing index's mapping up to date.

    Mapping changes must be additive (new fields, new sub-fields); Elasticsearch rejects the rest,
    and such a change needs a new index. Returns "created", "updated" or "unchanged".
    """
    body = json.loads(ES_MODELS_MAPPING_FILE.read_text())
    if not es.indices.exists(index=index):
        es.indices.create(index=index, settings=body["settings"], mappings=body["mappings"])
        return "created"
    current = es.indices.get_mapping(index=index)[index]["mappings"].get("properties", {})
    if all(current.get(name) == spec for name, spec in body["mappings"]["properties"].items()):
        return "unchanged"
    es.indices.put_mapping(index=index, properties=body["mappings"]["properties"])
    log.warning("index %s: mapping updated; documents indexed before keep the old fields until re-indexed "
                "(run hf_extraction with full_refresh)", index)
    return "updated"


def model_document(record: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The search document of a model; linked entities appear by name, base models by id."""

    def named(term: str) -> list[str]:
        return [names.get(iri) or iri.removeprefix(HF_BASE) for iri in record.get(term, [])]

    return {
        "iri": record["@id"],
        "source": record.get("source"),
        "identifier": record.get("identifier"),
        "name": record.get("name"),
        "description": record.get("description"),
        "keywords": named("keywords"),
        "ml_tasks": named("mlTask"),
        "model_category": record.get("modelCategory", []),
        "licenses": named("license"),
        "languages": named("inLanguage"),
        "trained_on": named("trainedOn"),
        "evaluated_on": named("evaluatedOn"),
        "fine_tuned_from": [iri.removeprefix(HF_BASE) for iri in record.get("fineTunedFrom", [])],
        "based_on": [iri.removeprefix(HF_BASE) for iri in record.get("isBasedOn", [])],
        "shared_by": named("sharedBy"),
        "reference_publications": named("referencePublication"),
        "intended_use": record.get("intendedUse"),
        "risks_bias_limitations": record.get("modelRisksBiasLimitations"),
        "software_requirements": record.get("softwareRequirements", []),
        "date_created": record.get("dateCreated"),
        "date_modified": record.get("dateModified"),
        "downloads": record.get("downloads"),
        "likes": record.get("likes"),
        "is_accessible_for_free": record.get("isAccessibleForFree"),
        "url": record.get("url"),
        "source_sha": record.get("sourceSha"),
    }


def index_models(
    es: Elasticsearch, index: str, records: Iterable[dict[str, Any]], names: dict[str, str], chunk_size: int = 500
) -> tuple[int, list[dict[str, Any]]]:
    """Bulk-index; returns (indexed count, per-record errors). Transient failures are retried."""
    iri_of: dict[str, str] = {}

    def actions() -> Iterable[dict[str, Any]]:
        for record in records:
            doc_id = document_id(record["@id"])
            iri_of[doc_id] = record["@id"]
            yield {"_op_type": "index", "_index": index, "_id": doc_id, "_source": model_document(record, names)}

    indexed, errors = 0, []
    for ok, item in streaming_bulk(es, actions(), chunk_size=chunk_size, raise_on_error=False, raise_on_exception=True, max_retries=3):
        if ok:
            indexed += 1
        else:
            detail = item.get("index", item)
            errors.append({"id": iri_of.get(detail.get("_id"), detail.get("_id")), "reason": f"index: {json.dumps(detail.get('error'))[:300]}"})
    es.indices.refresh(index=index)
    return indexed, errors
