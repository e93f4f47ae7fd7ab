"""What an OpenML run folder holds of flows and their evaluations, read by the extraction and the
transformation alike. Kept apart from the extraction, which imports the OpenML client (and with it
scikit-learn, pandas and scipy: seconds of CPU) that a transformation or loading task never uses."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from mlentory.pipeline.extraction import MODELS_FILE, STAGE
from mlentory.pipeline.run_folder import RunFolder, read_jsonl


def flow_revision(record: dict[str, Any], evaluations: list[dict[str, Any]]) -> str | None:
    """A flow never changes once uploaded, but it gains runs: its id, its version and the highest run
    id of its evaluations are its revision, so a flow with a new run is processed again."""
    highest_run = max((int(e["run_id"]) for e in evaluations), default=0)
    return f"{record['id']}:{record.get('version') or ''}:{highest_run}"


def evaluations_to_process(run: RunFolder) -> list[dict[str, Any]]:
    """The evaluations of the flows this run processes (not of those skipped as unchanged)."""
    flows = {record["id"] for record in read_jsonl(run.file(STAGE, MODELS_FILE))}
    return [e for e in read_jsonl(run.file(STAGE, "evaluations.jsonl")) if str(e["flow_id"]) in flows]


def evaluations_by_flow(run: RunFolder) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for evaluation in read_jsonl(run.file(STAGE, "evaluations.jsonl")):
        grouped[str(evaluation["flow_id"])].append(evaluation)
    return grouped
