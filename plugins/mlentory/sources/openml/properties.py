"""FAIR4ML properties of an OpenML flow, one pure function per property group.

Each group reads the flow's raw record (``client.flow_record``) and the run evaluations listed for it
(``extraction.harvest_evaluations``) and returns a partial record with mentions, as every source's
groups do (``fair4ml.mentions``). The rules:
- a flow is an ``MLModel`` at its OpenML page; its custom name (when it has one) is its name;
- its dependencies and external version are its ``softwareRequirements``; its tags, keywords;
- its uploader is ``sharedBy`` (an OpenML user); the flows it is made of (a pipeline's components)
  are ``isBasedOn``;
- each run evaluation is an embedded ``MLModelEvaluation`` at the run's page, with one
  ``PropertyValue`` per measure, linked to the task (its type is the ``mlTask``) and the dataset;
  the datasets the flow was evaluated on are its ``evaluatedOn``, and its ``trainedOn`` where the
  task's estimation procedure is known (each of OpenML's fits the model on the task's dataset); the
  procedure is each metric's ``measurementTechnique``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mlentory.fair4ml import iris
from mlentory.fair4ml.mentions import WARNINGS, Partial, iso_datetime, mention, unique
from mlentory.fair4ml.metrics import metric_term_iri

REQUIREMENT_SEPARATOR = re.compile(r"[,\n]")


def basic(flow: dict[str, Any], evaluations: list[dict[str, Any]]) -> Partial:
    uploaded = iso_datetime(flow.get("upload_date"))
    requirements = [r.strip() for text in (flow.get("dependencies"), flow.get("external_version")) if text
                    for r in REQUIREMENT_SEPARATOR.split(str(text)) if r.strip()]
    notes = [{"what": "upload date", "reason": f"not a date: {str(flow['upload_date'])[:40]!r}; left out"}] if flow.get("upload_date") and not uploaded else []
    return {
        WARNINGS: notes,
        "name": flow.get("custom_name") or flow.get("name"),
        "description": (flow.get("description") or "").strip() or None,
        "version": flow.get("version"),
        "url": iris.openml_flow_iri(flow["id"]),
        "dateCreated": uploaded,
        "datePublished": uploaded,
        "softwareRequirements": unique(requirements),
        "isAccessibleForFree": True,
    }


def keywords_languages(flow: dict[str, Any], evaluations: list[dict[str, Any]]) -> Partial:
    """Tags are keywords; ``language`` is the language of the flow's description."""
    return {"keywords": [mention("keywords", tag) for tag in unique(str(t) for t in flow.get("tags") or [] if str(t).strip())],
            "inLanguage": [mention("languages", flow["language"])] if flow.get("language") else []}


def sharing(flow: dict[str, Any], evaluations: list[dict[str, Any]]) -> Partial:
    """The uploader, an OpenML user (users are numbered: any other value names none)."""
    return {"sharedBy": [mention("organisations", str(flow["uploader"]))] if str(flow.get("uploader")).isdigit() else []}


def lineage(flow: dict[str, Any], evaluations: list[dict[str, Any]]) -> Partial:
    """The flows a pipeline or ensemble is made of: it is based on each of them."""
    return {"isBasedOn": [mention("models", str(component)) for component in unique((flow.get("components") or {}).values())]}


# OpenML's estimation procedure types (``estimation_procedure/list``): each fits the model on the
# task's dataset (on its training folds or split, or on all of it) before measuring it.
# OpenML reports these four over a classification task's classes as their average weighted by each
# class's share (WEKA's "Weighted Avg."): not the classes' plain mean (recorded run 219: f_measure
# 0.7535, the per-class values' mean 0.5451), and not the positive class's value a card's F1 is.
CLASS_WEIGHTED = {"f_measure": "f1 weighted", "precision": "precision weighted", "recall": "recall weighted",
                  "area_under_roc_curve": "roc_auc weighted"}
PROCEDURES = {
    "crossvalidation": "cross-validation",
    "leaveoneout": "leave-one-out cross-validation",
    "holdout": "holdout",
    "customholdout": "custom holdout",
    "bootstrapping": "bootstrapping",
    "subsampling": "subsampling",
    "testthentrain": "test-then-train (prequential)",
    "testontrainingdata": "test on the training data",
}


def measurement_technique(evaluation: dict[str, Any]) -> str | None:
    """The task's estimation procedure in words ("10-fold cross-validation, 1 repeat, stratified")."""
    procedure = evaluation.get("estimation_procedure")
    if not procedure:
        return None
    parameters = evaluation.get("estimation_parameters") or {}
    name = PROCEDURES.get(procedure, procedure)
    folds, repeats, percentage = parameters.get("number_folds"), parameters.get("number_repeats"), parameters.get("percentage")
    details = [f"{repeats} repeat{'s' if str(repeats) != '1' else ''}" if repeats else None,
               f"{percentage}% held out" if percentage else None,
               "stratified" if str(parameters.get("stratified_sampling", "")).lower() == "true" else None]
    return ", ".join([f"{folds}-fold {name}" if folds else name, *(d for d in details if d)])


def run_evaluations(flow: dict[str, Any], evaluations: list[dict[str, Any]]) -> Partial:
    """Each run's evaluation; the model was trained on the dataset of every task whose estimation
    procedure is one of OpenML's (a task that could not be read, or an unknown procedure, says
    nothing about training)."""
    records, datasets, tasks, trained_on = [], [], [], []
    for evaluation in sorted(evaluations, key=lambda e: e["run_id"]):
        run_iri = iris.openml_run_iri(evaluation["run_id"])
        values = {measure: value for measure, value in sorted(evaluation["values"].items()) if value is not None}
        dataset = mention("datasets", str(evaluation["data_id"])) if str(evaluation.get("data_id")).isdigit() else None
        task = mention("tasks", str(evaluation["task_id"])) if str(evaluation.get("task_id")).isdigit() else None
        technique = measurement_technique(evaluation)
        records.append({
            "@id": run_iri,
            "name": f"run {evaluation['run_id']} on {evaluation.get('data_name') or evaluation.get('data_id')} (task {evaluation.get('task_id')})",
            "url": run_iri,
            "evaluatedMLModel": iris.openml_flow_iri(flow["id"]),
            "evaluationDataset": [dataset] if dataset else [],
            "mlTask": [task] if task else [],
            "evaluationMetrics": [{"@id": iris.evaluation_metric_iri(run_iri, position), "name": measure, "propertyID": measure, "value": value,
                                   "metric": metric_term_iri(CLASS_WEIGHTED.get(measure, measure)),
                                   **({"measurementTechnique": technique} if technique else {})}
                                  for position, (measure, value) in enumerate(values.items())],
            "evaluationResults": "; ".join(f"{measure}: {value}" for measure, value in values.items()) or None,
        })
        datasets += [dataset] if dataset else []
        tasks += [task] if task else []
        trained_on += [dataset] if dataset and evaluation.get("estimation_procedure") in PROCEDURES else []
    return {"hasEvaluation": records, "evaluatedOn": unique(datasets), "trainedOn": unique(trained_on), "mlTask": unique(tasks),
            "evaluationMetrics": unique(m for e in evaluations for m in sorted(e["values"]))}


PROPERTY_GROUPS: dict[str, Callable[[dict[str, Any], list[dict[str, Any]]], Partial]] = {
    "basic": basic,
    "keywords_languages": keywords_languages,
    "sharing": sharing,
    "lineage": lineage,
    "evaluations": run_evaluations,
}

GROUPS_MENTIONING: dict[str, tuple[str, ...]] = {
    "keywords": ("keywords_languages",),
    "languages": ("keywords_languages",),
    "organisations": ("sharing",),
    "tasks": ("evaluations",),
    "datasets": ("evaluations",),
}
