"""OpenML's mapping onto the shared transformation: its records (a flow with its run evaluations),
property groups, linkers and model IRIs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlentory.fair4ml import iris
from mlentory.pipeline.extraction import MODELS_FILE, STAGE
from mlentory.pipeline.run_folder import RunFolder, read_json, read_jsonl
from mlentory.pipeline.source import SourceMapping
from mlentory.sources.openml.linking import LINKERS
from mlentory.sources.openml.properties import GROUPS_MENTIONING, PROPERTY_GROUPS
from mlentory.sources.openml.run_records import evaluations_by_flow, flow_revision


def records(run: RunFolder) -> Iterator[dict[str, Any]]:
    """Each flow with its run evaluations; an evaluation carries its task's estimation procedure
    (from the task descriptions the extraction looked up), which says how the model was trained."""
    evaluations = evaluations_by_flow(run)
    tasks = read_json(run.file(STAGE, "entities", "tasks.json"), {})
    for flow in read_jsonl(run.file(STAGE, MODELS_FILE)):
        yield {"id": flow["id"], "revision": flow_revision(flow, evaluations.get(flow["id"], [])), "flow": flow,
               "evaluations": [with_procedure(e, tasks.get(str(e.get("task_id")))) for e in evaluations.get(flow["id"], [])]}


def with_procedure(evaluation: dict[str, Any], task: dict[str, Any] | None) -> dict[str, Any]:
    if not task or not task.get("estimation_procedure"):
        return evaluation
    return {**evaluation, "estimation_procedure": task["estimation_procedure"], "estimation_parameters": task.get("estimation_parameters") or {}}


MAPPING = SourceMapping(
    property_groups=PROPERTY_GROUPS,
    groups_mentioning=GROUPS_MENTIONING,
    records=records,
    record_arguments=lambda row: (row["flow"], row["evaluations"]),
    model_iri=iris.openml_flow_iri,
    linkers=LINKERS,
    records_read_entities=True,  # the task descriptions of entities/tasks.json
)
