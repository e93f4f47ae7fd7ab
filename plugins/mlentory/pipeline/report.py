"""A run's report: per stage, the records in and out, the errors by reason, the API requests made and
the duration; for the loaded models, how many carry each FAIR4ML field. Written into the run folder
(``report.json``, ``report.md``) at the end of the loading, carried by its asset event, and shown in
the loading's last task log as Markdown.

API requests are counted where they are sent (``budget.REQUESTS_SENT``, per process) and kept per
task try by the extraction DAG's task callbacks (``requests/<task>.<map index>.<try>.json``): the
tasks run in processes of their own, on any worker.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mlentory.pipeline import storage
from mlentory.pipeline.budget import REQUESTS_SENT
from mlentory.pipeline.run_folder import RunFolder, created_at, read_json, write_json

log = logging.getLogger(__name__)

STAGES = ("extraction", "transformation", "loading")
REQUESTS_DIR = "requests"
# The counts of a stage's summary that are records out (the rest are shown as they are).
RECORDS_OUT = {"extraction": "models", "transformation": "models", "loading": "models_loaded"}
_EXCEPTION = re.compile(r"^[A-Z]\w*(Error|Exception|Failure|Timeout|Exceeded|NotFound)\w*$")

# Task callbacks: the requests counted when a task try starts, by task instance, in this process.
_AT_START: dict[tuple[str, str, int, int], Counter[str]] = {}


def _task_key(ti: Any) -> tuple[str, str, int, int]:
    return ti.dag_id, ti.task_id, ti.map_index if ti.map_index is not None else -1, ti.try_number


def note_task_start(context: Mapping[str, Any]) -> None:
    """``on_execute_callback``: the requests this process had sent before the task began (a
    process runs one task on a worker, but many in ``dag.test``)."""
    _AT_START[_task_key(context["ti"])] = Counter(REQUESTS_SENT)


def record_task_requests(context: Mapping[str, Any]) -> None:
    """``on_success_callback`` and ``on_failure_callback`` of the extraction tasks: the API requests
    the task try sent, into its run folder (the ``<key>_run_folder`` task's XCom)."""
    ti = context["ti"]
    sent = Counter(REQUESTS_SENT)
    sent.subtract(_AT_START.pop(_task_key(ti), Counter()))
    sent = +sent  # only what this try sent
    if not sent:
        return
    key = ti.dag_id.removesuffix("_extraction")
    run_folder = ti.xcom_pull(task_ids=f"{key}_run_folder")
    if not run_folder:
        return
    dag_id, task_id, map_index, try_number = _task_key(ti)
    # The run folder's path, or its URI when the data root is in object storage.
    storage.write_json_at(run_folder, f"{REQUESTS_DIR}/{task_id}.{map_index}.{try_number}.json",
                          {"task_id": task_id, "map_index": map_index, "try_number": try_number, "requests": dict(sent)})


def requests_made(run: RunFolder) -> dict[str, int]:
    """The API requests every task try of the run sent, per API."""
    total: Counter[str] = Counter()
    folder = run.path / REQUESTS_DIR
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        total.update(read_json(path, {}).get("requests", {}))
    return dict(sorted(total.items()))


def reason_class(reason: str) -> str:
    """What kind of failure a reason names, without its details: ``graph: ClientError: ...`` ->
    ``graph: ClientError``; ``FAIR4ML validation: 3 errors: ...`` -> ``FAIR4ML validation``."""
    parts = [part.strip() for part in str(reason).split(": ")]
    kept = [parts[0]]
    for part in parts[1:3]:
        if not _EXCEPTION.match(part):
            break
        kept.append(part)
    return ": ".join(kept)[:120]


# What names one record in a reason: a quoted value, a URL, a validator's message in parentheses, an
# identifier before the first colon (``acme/x: not a resource of the collection``).
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_HTTP_STATUS = re.compile(r"'\d{3} [A-Za-z ]+'")  # '404 Not Found' is the reason itself
_URL = re.compile(r"\b\w+://\S+")
_VALIDATOR_MESSAGE = re.compile(r" \(\w[\w.\[\]]*: .*$", re.DOTALL)
_LEADING_IDENTIFIER = re.compile(r"^(…|[\w.-]+/[\w./-]+): (?=[a-z])")


def reason_kind(reason: str) -> str:
    """A warning's or an error's reason without what names its record, so that records that went wrong
    alike are counted together: ``'https://…/README.md': HTTPStatusError: Client error '404 Not Found'
    for url '…'`` -> ``HTTPStatusError: Client error '404 Not Found' for url …``."""
    text = _VALIDATOR_MESSAGE.sub("", _URL.sub("…", _QUOTED.sub(lambda quoted: quoted[0] if _HTTP_STATUS.fullmatch(quoted[0]) else "…", str(reason))))
    text = _LEADING_IDENTIFIER.sub("", text.removeprefix("…: ")).split("\n", 1)[0]  # a parser's position follows
    return " ".join(text.split())[:100]


def by_reason(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Warnings or errors counted by what they concern and the kind of their reason, the most first."""
    return dict(Counter(f"{e.get('what') or e.get('part', '')}: {reason_kind(e.get('reason', ''))}" for e in entries).most_common())


def _moment(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _started(run: RunFolder, stage: str) -> datetime | None:
    if stage == "extraction":
        return created_at(run.path)
    return _moment(read_json(run.path / "claims" / f"{stage}.json", {}).get("claimed_at"))


def build_report(run: RunFolder, loading_summary: dict[str, Any], coverage: Counter[str], models: int,
                 completeness: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The report of a run whose loading just finished (``loading_summary``; ``coverage``: of the
    ``models`` loaded, how many carry each field; ``completeness``: per source, how many fill each
    field a catalogue user relies on)."""
    errors = run.errors()
    warnings = run.warnings()
    requests = requests_made(run)
    now = datetime.now(UTC)
    stages: dict[str, Any] = {}
    records_in: int | None = None
    for stage in STAGES:
        summary = loading_summary if stage == "loading" else read_json(run.file(stage, "SUCCESS.json"), {})
        started = _started(run, stage)
        finished = now if stage == "loading" else _moment(summary.get("finished_at"))
        counts = {key: value for key, value in summary.items() if isinstance(value, int) and not isinstance(value, bool)}
        records_out = counts.get(RECORDS_OUT[stage])
        stages[stage] = {
            "records_in": records_in,
            "records_out": records_out,
            "counts": counts,
            "errors_by_reason": dict(Counter(f"{e['part']}: {reason_class(e.get('reason', ''))}" for e in errors
                                             if e.get("stage") == stage).most_common()),
            "warnings_by_reason": by_reason([w for w in warnings if w.get("stage") == stage]),
            "api_requests": requests if stage == "extraction" else {},
            "seconds": round((finished - started).total_seconds(), 1) if started and finished else None,
        }
        records_in = records_out
    return {
        "run_folder": str(run.path),
        "run": run.name,
        "written_at": now.isoformat(),
        "stages": stages,
        "models_loaded": models,
        "field_coverage": {field: round(count / models, 4) for field, count in sorted(coverage.items(), key=lambda item: (-item[1], item[0]))}
        if models else {},
        "metadata_completeness": completeness or {},
        "source_coverage": source_coverage(run, loading_summary.get("models_catalogued")),
    }


def source_coverage(run: RunFolder, catalogued: int | None) -> dict[str, Any]:
    """How much of the source the catalogue holds, when the source's extraction states it
    (``extraction/coverage.json``: what its listing reported, the card backlog, ...): the models
    catalogued (in every run), those with card text, against the count the listing reported."""
    stated = read_json(run.file("extraction", "coverage.json"), None)
    if stated is None:
        return {}
    coverage = {"models_catalogued": catalogued, **stated}
    if catalogued is not None and "card_backlog" in stated:
        coverage["with_card_text"] = max(0, catalogued - stated["card_backlog"] - stated.get("without_card", 0))
    return coverage


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown (the loading's last task log, ``report.md``)."""
    lines = [f"# Run report: {report['run']}", "", "| stage | records in | records out | errors | API requests | seconds |",
             "|---|---:|---:|---:|---|---:|"]
    for stage, data in report["stages"].items():
        requests = ", ".join(f"{api} {count}" for api, count in data["api_requests"].items()) or "0"
        lines.append(f"| {stage} | {_number(data['records_in'])} | {_number(data['records_out'])} | "
                     f"{sum(data['errors_by_reason'].values())} | {requests} | {_number(data['seconds'])} |")
    for stage, data in report["stages"].items():
        if data["errors_by_reason"]:
            lines += ["", f"## Errors of the {stage}, by reason", "", "| part: reason | records |", "|---|---:|"]
            lines += [f"| {reason.replace('|', '/')} | {count} |" for reason, count in data["errors_by_reason"].items()]
        if data.get("warnings_by_reason"):
            lines += ["", f"## Warnings of the {stage}, by reason", "", "| concerning: reason | records |", "|---|---:|"]
            lines += [f"| {reason.replace('|', '/')} | {count} |" for reason, count in data["warnings_by_reason"].items()]
    if report["field_coverage"]:
        lines += ["", f"## Field coverage of the {report['models_loaded']} loaded models", "", "| field | share |", "|---|---:|"]
        lines += [f"| {field} | {share:.0%} |" for field, share in report["field_coverage"].items()]
    for source, counts in report.get("metadata_completeness", {}).items():
        lines += ["", f"## Metadata completeness of the {counts['models']} loaded {source} models", "",
                  f"Mean score {counts['mean_score']:.0%}; {counts['minimum_metadata']} with licence, task and description.", "",
                  "| field | models |", "|---|---:|"]
        lines += [f"| {name} | {count} |" for name, count in counts["fields"].items()]
    if coverage := report.get("source_coverage"):
        lines += ["", "## Coverage of the source", "", "| | models |", "|---|---:|"]
        lines += [f"| {COVERAGE_LABELS[key]} | {_number(coverage.get(key))} |" for key in COVERAGE_LABELS if coverage.get(key) is not None]
    return "\n".join(lines) + "\n"


COVERAGE_LABELS = {
    "listed": "listed by the last complete listing",
    "models_catalogued": "catalogued (graph and index)",
    "with_card_text": "with card text",
    "card_backlog": "card backlog (catalogued, card not read yet)",
    "without_card": "without a card (no README)",
    "listed_this_run": "listed by this run",
    "cards_read": "cards read this run",
    "cards_from_dump": "cards from the dump this run",
    "cards_from_backlog": "backlog cards read this run",
}


def _number(value: Any) -> str:
    return "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def write_report(run: RunFolder, report: dict[str, Any]) -> str:
    """``report.json`` and ``report.md`` in the run folder; returns the Markdown."""
    text = markdown(report)
    write_json(run.path / "report.json", report)
    (run.path / "report.md").write_text(text, encoding="utf-8")
    return text
