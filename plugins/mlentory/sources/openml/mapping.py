"""OpenML's mapping onto the shared transformation: its records (a flow with its run evaluations),
property groups, linkers and model IRIs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlentory.fair4ml import iris
from mlentory.pipeline.extraction import MODELS_FILE, STAGE
from mlentory.pipeline.run_folder import RunFolder, read_jsonl
from mlentory.pipeline.source import SourceMapping
from mlentory.sources.openml.extraction import evaluations_by_flow, flow_revision
from mlentory.sources.openml.linking import LINKERS
from mlentory.sources.openml.properties import GROUPS_MENTIONING, PROPERTY_GROUPS


def records(run: RunFolder) -> Iterator[dict[str, Any]]:
    evaluations = evaluations_by_flow(run)
    for flow in read_jsonl(run.file(STAGE, MODELS_FILE)):
        yield {"id": flow["id"], "revision": flow_revision(flow), "flow": flow, "evaluations": evaluations.get(flow["id"], [])}


MAPPING = SourceMapping(
    property_groups=PROPERTY_GROUPS,
    groups_mentioning=GROUPS_MENTIONING,
    records=records,
    record_arguments=lambda row: (row["flow"], row["evaluations"]),
    model_iri=iris.openml_flow_iri,
    linkers=LINKERS,
)
