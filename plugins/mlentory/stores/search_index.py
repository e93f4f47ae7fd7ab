"""Index FAIR4ML model records in Elasticsearch for search: one flat document per model, and one
document per metric value in the evaluations index beside it (``evaluations_index``).

Document ids are derived from the model IRI, so re-indexing replaces a document in place (no
duplicates, no stale fields) in every run and from every source. Every linked entity appears twice:
by its code in the filter field (``licenses: mit``, ``ml_tasks: text-to-image``, ``languages: en``,
lowercase-normalized) and by its name in a ``*_names`` field for display and full-text search.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from elasticsearch import BadRequestError, Elasticsearch
from elasticsearch.helpers import streaming_bulk

from mlentory.fair4ml.completeness import completeness
from mlentory.fair4ml.metrics import MetricTerm, term_of_iri
from mlentory.settings import ES_EVALUATIONS_INDEX, ES_EVALUATIONS_MAPPING_FILE, ES_MODELS_INDEX, ES_MODELS_MAPPING_FILE

log = logging.getLogger(__name__)


class EntityLabel(NamedTuple):
    code: str
    name: str
    same: tuple[str, ...] = ()  # the same resource's IRIs at other sources (a dataset's sameDataset)


def label_from_json(values: list[Any]) -> EntityLabel:
    """A label as ``json`` wrote it (a list: its ``same`` a list too, or left out by an older run)."""
    code, name, *same = values
    return EntityLabel(code, name, tuple(same[0]) if same else ())


def entity_label(record: dict[str, Any]) -> EntityLabel:
    """How a linked entity is filtered (its code in its vocabulary) and shown (its name)."""
    code = record.get("termCode") or record.get("identifier") or record["@id"]
    return EntityLabel(code=str(code), name=str(record.get("name") or code), same=tuple(record.get("sameDataset", ())))


def evaluations_index(index: str) -> str:
    """The evaluations index beside a models index: ``mlentory_models_x`` -> ``mlentory_evaluations_x``."""
    return ES_EVALUATIONS_INDEX + index.removeprefix(ES_MODELS_INDEX)


def document_id(iri: str) -> str:
    return hashlib.sha256(iri.encode("utf-8")).hexdigest()


def ensure_index(es: Elasticsearch, index: str) -> str:
    """Create the models index and its evaluations index with their explicit mappings, or bring an
    existing index's mapping up to date.

    Mapping changes must be additive (new fields, new sub-fields); Elasticsearch rejects the rest,
    and such a change needs a new index. Returns the models index's "created", "updated" or "unchanged".
    """
    _ensure(es, evaluations_index(index), ES_EVALUATIONS_MAPPING_FILE)
    return _ensure(es, index, ES_MODELS_MAPPING_FILE)


def _ensure(es: Elasticsearch, index: str, mapping_file: Path) -> str:
    body = json.loads(mapping_file.read_text())
    if not es.indices.exists(index=index):
        try:
            es.indices.create(index=index, settings=body["settings"], mappings=body["mappings"])
            return "created"
        except BadRequestError:
            if not es.indices.exists(index=index):
                raise
            # another task (a parallel chunk's) created it meanwhile: its mapping is checked below
    current = es.indices.get_mapping(index=index)[index]["mappings"].get("properties", {})
    if all(current.get(name) == spec for name, spec in body["mappings"]["properties"].items()):
        return "unchanged"
    try:
        es.indices.put_mapping(index=index, properties=body["mappings"]["properties"])
    except BadRequestError as exc:
        raise RuntimeError(
            f"index {index}: its mapping cannot be changed in place to the current one ({exc.message}); "
            "index into a new index (the loading DAG's `index` param) with an hf_extraction full_refresh run, "
            "then point searches at it") from exc
    log.warning("index %s: mapping updated; documents indexed before keep the old fields until re-indexed "
                "(run hf_extraction with full_refresh)", index)
    return "updated"


def _codes(iris: list[str], labels: dict[str, EntityLabel]) -> list[str]:
    """Linked entities by their codes (an IRI the run has no record of stays as it is)."""
    return [labels[iri].code if iri in labels else iri for iri in iris]


def _evaluation_lines(record: dict[str, Any], labels: dict[str, EntityLabel]) -> list[str]:
    """Each metric value as one searchable line, named by its evaluation:
    "Accuracy (accuracy): 0.934 on stanfordnlp/imdb test: Text Classification on imdb (test)"."""
    lines = []
    for evaluation in record.get("hasEvaluation", []):
        datasets = ", ".join(_codes(evaluation.get("evaluationDataset", []), labels))
        where = " ".join(p for p in (datasets, ", ".join(p for p in (evaluation.get("datasetConfig"), evaluation.get("datasetSplit")) if p)) if p)
        for metric in evaluation.get("evaluationMetrics", []):
            metric_type = f" ({metric['propertyID']})" if metric.get("propertyID") and metric["propertyID"] != metric.get("name") else ""
            lines.append(f"{metric.get('name')}{metric_type}: {metric.get('value')}" + (f" on {where}" if where else "")
                         + (f": {evaluation['name']}" if evaluation.get("name") else ""))
    return lines


def _evaluation_values(record: dict[str, Any], labels: dict[str, EntityLabel]) -> list[dict[str, Any]]:
    """Each metric value with its evaluation, dataset, task and metric (nested: one query can ask for
    "accuracy above 0.9 on imdb"); a value that is no number is kept as ``value_text`` only."""
    values = []
    for evaluation in record.get("hasEvaluation", []):
        datasets, tasks = _codes(evaluation.get("evaluationDataset", []), labels), _codes(evaluation.get("mlTask", []), labels)
        for metric in evaluation.get("evaluationMetrics", []):
            value = metric.get("value")
            number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
            values.append({
                "evaluation": evaluation["@id"],
                "evaluation_name": evaluation.get("name"),
                "dataset": datasets[0] if datasets else None,
                "dataset_config": evaluation.get("datasetConfig"),
                "dataset_split": evaluation.get("datasetSplit"),
                "task": tasks[0] if tasks else None,
                "metric": metric.get("name"),
                "metric_type": metric.get("propertyID"),
                "metric_term": term.id if (term := _term(metric)) else None,
                "value": number,
                "value_text": None if value is None else str(value),
                "verified": metric.get("verified"),
            })
    return values


def _term(metric: dict[str, Any]) -> MetricTerm | None:
    """The vocabulary's term a metric value links to (``metric``), or None."""
    return term_of_iri(metric["metric"]) if metric.get("metric") else None


def evaluation_documents(record: dict[str, Any], labels: dict[str, EntityLabel]) -> list[tuple[str, dict[str, Any]]]:
    """(document id, document) of each metric value of the model: its model, evaluation, dataset
    (by code and name; ``datasets``: its IRI with the same data's IRIs at other sources), config,
    split, task, metric (the source's name and type, the vocabulary's term and direction), value."""
    documents = []
    for evaluation in record.get("hasEvaluation", []):
        dataset_iris = evaluation.get("evaluationDataset", [])
        same = [iri for dataset in dataset_iris for iri in (labels[dataset].same if dataset in labels else ())]
        tasks = _codes(evaluation.get("mlTask", []), labels)
        for metric in evaluation.get("evaluationMetrics", []):
            value = metric.get("value")
            number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
            term = _term(metric)
            documents.append((document_id(metric["@id"]), {
                "model": record["@id"],
                "model_identifier": record.get("identifier"),
                "model_name": record.get("name"),
                "source": record.get("source"),
                "evaluation": evaluation["@id"],
                "evaluation_name": evaluation.get("name"),
                "dataset": _codes(dataset_iris[:1], labels)[0] if dataset_iris else None,
                "dataset_name": labels[dataset_iris[0]].name if dataset_iris and dataset_iris[0] in labels else None,
                "datasets": list(dict.fromkeys([*dataset_iris, *same])),
                "dataset_config": evaluation.get("datasetConfig"),
                "dataset_split": evaluation.get("datasetSplit"),
                "task": tasks[0] if tasks else None,
                "metric": metric.get("name"),
                "metric_type": metric.get("propertyID"),
                "metric_term": term.id if term else None,
                "metric_label": term.label if term else None,
                "higher_is_better": term.higher_is_better if term else None,
                "value": number,
                "value_text": None if value is None else str(value),
                "verified": metric.get("verified"),
                "measurement_technique": metric.get("measurementTechnique"),
                "date_modified": record.get("dateModified"),
            }))
    return documents


def model_document(record: dict[str, Any], labels: dict[str, EntityLabel]) -> dict[str, Any]:
    """The search document of a model: linked entities by code (filters) and by name (display)."""

    def codes(term: str) -> list[str]:
        return _codes(record.get(term, []), labels)

    def names(term: str) -> list[str]:
        return [labels[iri].name if iri in labels else iri for iri in record.get(term, [])]

    evaluations = record.get("hasEvaluation", [])
    metadata = completeness(record)
    return {
        "iri": record["@id"],
        "source": record.get("source"),
        "identifier": record.get("identifier"),
        "name": record.get("name"),
        "description": record.get("description"),
        "keywords": names("keywords"),
        "ml_tasks": codes("mlTask"),
        "ml_task_names": names("mlTask"),
        "model_category": record.get("modelCategory", []),
        "licenses": codes("license"),
        "license_names": names("license"),
        "languages": codes("inLanguage"),
        "language_names": names("inLanguage"),
        "trained_on": codes("trainedOn"),
        "trained_on_names": names("trainedOn"),
        "evaluated_on": codes("evaluatedOn"),
        "evaluation_metrics": record.get("evaluationMetrics", []),
        "evaluations": _evaluation_lines(record, labels),
        "evaluation_count": len(evaluations),
        "evaluation_values": _evaluation_values(record, labels),
        "fine_tuned_from": codes("fineTunedFrom"),
        "quantized_from": codes("quantizedFrom"),
        "adapter_of": codes("adapterOf"),
        "merged_from": codes("mergedFrom"),
        "based_on": codes("isBasedOn"),
        "shared_by": codes("sharedBy"),
        "shared_by_names": names("sharedBy"),
        "creators": codes("creator"),
        "creator_names": names("creator"),
        "reference_publications": names("referencePublication"),
        "same_as": [*record.get("sameAs", []), *record.get("sameModel", [])],
        "code_repository": record.get("codeRepository", []),
        "intended_use": record.get("intendedUse"),
        "risks_bias_limitations": record.get("modelRisksBiasLimitations"),
        "software_requirements": record.get("softwareRequirements", []),
        "date_created": record.get("dateCreated"),
        "date_modified": record.get("dateModified"),
        "downloads": record.get("downloads"),
        "likes": record.get("likes"),
        "is_accessible_for_free": record.get("isAccessibleForFree"),
        "conditions_of_access": record.get("conditionsOfAccess"),
        "url": record.get("url"),
        "source_sha": record.get("sourceSha"),
        # Filters on metadata quality: "only models with licence, task and description".
        "metadata_completeness": metadata["score"],
        "metadata_fields": metadata["filled"],
        "metadata_missing": metadata["missing"],
        "minimum_metadata": metadata["minimum"],
    }


def index_models(
    es: Elasticsearch, index: str, records: Iterable[dict[str, Any]], labels: dict[str, EntityLabel], chunk_size: int = 500,
    refresh: bool = True, fields: dict[str, dict[str, Any]] | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """Bulk-index; returns (indexed count, per-record errors). Transient failures are retried.
    ``refresh=False`` leaves making the documents searchable to the caller (once, after many calls).
    ``fields``: more fields of a model's document, by its IRI (found about it apart from its record)."""
    iri_of: dict[str, str] = {}
    records = list(records)
    evaluations = evaluations_index(index)
    # A model loaded again may have dropped a result: its values are indexed anew, not added to.
    _delete_evaluations(es, evaluations, [record["@id"] for record in records])

    def actions() -> Iterable[dict[str, Any]]:
        for record in records:
            doc_id = document_id(record["@id"])
            iri_of[doc_id] = record["@id"]
            document = model_document(record, labels)
            if fields and record["@id"] in fields:
                document.update(fields[record["@id"]])
            yield {"_op_type": "index", "_index": index, "_id": doc_id, "_source": document}
            for value_id, document in evaluation_documents(record, labels):
                iri_of[value_id] = record["@id"]
                yield {"_op_type": "index", "_index": evaluations, "_id": value_id, "_source": document}

    indexed, errors = 0, []
    for ok, item in streaming_bulk(es, actions(), chunk_size=chunk_size, raise_on_error=False, raise_on_exception=True, max_retries=3):
        detail = item.get("index", item)
        if ok:
            indexed += detail.get("_index") == index
        else:
            errors.append({"iri": iri_of.get(detail.get("_id"), detail.get("_id")), "reason": f"index: {json.dumps(detail.get('error'))[:300]}"})
    if refresh:
        refresh_indices(es, index)
    return indexed, errors


def refresh_indices(es: Elasticsearch, index: str) -> None:
    """The models index and its evaluations index made searchable."""
    es.indices.refresh(index=f"{index},{evaluations_index(index)}")


def _delete_evaluations(es: Elasticsearch, evaluations: str, models: list[str], refresh: bool = False, chunk_size: int = 1_000) -> int:
    """The evaluations index's documents of these models removed (``refresh``: made visible at once).
    Returns the count removed."""
    removed = 0
    for start in range(0, len(models), chunk_size):
        answer = es.delete_by_query(index=evaluations, query={"terms": {"model": models[start:start + chunk_size]}},
                                    conflicts="proceed", refresh=refresh, ignore_unavailable=True)
        removed += answer.get("deleted", 0)
    return removed


def update_documents(es: Elasticsearch, index: str, updates: dict[str, dict[str, Any]], chunk_size: int = 1_000,
                     refresh: bool = True) -> int:
    """Fields of existing documents, by the model's IRI (``{iri: {"downloads": 3}}``: the fields are
    the documents' own, which for counts are the JSON-LD terms), in place; an IRI with no document is
    left alone. ``refresh=False`` leaves making them searchable to the caller (once, after many
    calls: each refresh of a large index costs seconds). Returns the count of documents updated."""
    return _in_place(es, index, "update", ({"_id": document_id(iri), "doc": fields} for iri, fields in updates.items() if fields), chunk_size,
                     refresh)


def delete_documents(es: Elasticsearch, index: str, iris: list[str], chunk_size: int = 1_000) -> int:
    """The documents of these models removed, and their metric values' (one already gone is no
    error). Returns the count of model documents removed."""
    _delete_evaluations(es, evaluations_index(index), iris, refresh=True)
    return _in_place(es, index, "delete", ({"_id": document_id(iri)} for iri in iris), chunk_size)


def _in_place(es: Elasticsearch, index: str, operation: str, actions: Iterable[dict[str, Any]], chunk_size: int,
              refresh: bool = True) -> int:
    """A bulk ``operation`` on existing documents: a document that is not there is skipped, any other
    failure raised. Returns the count done."""
    done = 0
    for ok, item in streaming_bulk(es, ({"_op_type": operation, "_index": index, **action} for action in actions), chunk_size=chunk_size,
                                   raise_on_error=False, raise_on_exception=True, max_retries=3):
        if ok:
            done += 1
        elif item.get(operation, {}).get("status") != 404:
            raise RuntimeError(f"index {operation} failed: {json.dumps(item)[:300]}")
    if refresh:
        es.indices.refresh(index=index)
    return done


def top_values(es: Elasticsearch, index: str, datasets: list[str], metric_term: str, higher_is_better: bool,
               size: int = 10) -> list[dict[str, Any]]:
    """The best metric value of each of the ``size`` best models on any of ``datasets`` (IRIs) by one
    term of the metric vocabulary, best first (in the term's direction): one query of the
    evaluations index, each model once (``collapse``), values that are no number left out."""
    answer = es.search(index=evaluations_index(index), size=size, collapse={"field": "model"},
                       query={"bool": {"filter": [{"terms": {"datasets": datasets}}, {"term": {"metric_term": metric_term}},
                                                  {"exists": {"field": "value"}}]}},
                       sort=[{"value": "desc" if higher_is_better else "asc"}, {"model": "asc"}])
    return [hit["_source"] for hit in answer["hits"]["hits"]]


def compared_across_sources(es: Elasticsearch, index: str, limit: int = 100) -> list[dict[str, Any]]:
    """The (dataset, metric term) pairs whose values come from more than one source: ``{"dataset",
    "metric_term", "sources": {source: values}}``, the most-valued first."""
    answer = es.search(index=evaluations_index(index), size=0, query={"exists": {"field": "value"}}, aggs={"datasets": {
        "terms": {"field": "datasets", "size": limit * 10},
        "aggs": {"terms": {"terms": {"field": "metric_term", "size": 50}, "aggs": {"sources": {"terms": {"field": "source", "size": 10}}}}}}})
    pairs = [{"dataset": dataset["key"], "metric_term": term["key"], "sources": {s["key"]: s["doc_count"] for s in term["sources"]["buckets"]}}
             for dataset in answer["aggregations"]["datasets"]["buckets"] for term in dataset["terms"]["buckets"]]
    shared = [pair for pair in pairs if len(pair["sources"]) > 1]
    return sorted(shared, key=lambda pair: (-sum(pair["sources"].values()), pair["dataset"], pair["metric_term"]))[:limit]
