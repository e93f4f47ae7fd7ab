"""OpenML extraction: flows (the models), their run evaluations, and the tasks, datasets and users
they reference, into a new run folder. Each public function is the body of one task of the
``openml_extraction`` DAG; the shared scaffolding (run folder, merge, cached lookups, the stage's
end) is ``pipeline.extraction``.

Incremental: flows never change once uploaded, so a flow is fetched and processed once (its id and
version are its revision). A run lists every flow (a few requests: 10,000 per page) and harvests the
``num_flows`` newest that no loading has recorded yet (and the flows named by id); what a failed run
did not load is simply still new for the next one. Evaluations are listed for the flows a run harvests.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from mlentory.pipeline import extraction as scaffolding
from mlentory.pipeline.extraction import STAGE, failure
from mlentory.pipeline.quality import Progress
from mlentory.pipeline.run_folder import RunFolder, read_jsonl, write_jsonl
from mlentory.pipeline.state import ApiCache, LoadedRevisions, RejectedRecords, source_dir
from mlentory.sources.openml import SOURCE as OPENML
from mlentory.sources.openml.client import OpenMLClient, is_not_found, is_transient
from mlentory.sources.openml.run_records import evaluations_by_flow, evaluations_to_process, flow_revision

log = logging.getLogger(__name__)

FLOW_ID = re.compile(r"^[1-9]\d{0,9}$")



def listed_revision(row: dict[str, Any]) -> str:
    """What the flow listing says of a flow's revision: a flow rejected at this one is not taken again."""
    return f"listed:{row['id']}:{row.get('version') or ''}:{row.get('external_version') or ''}"


def harvest_flows(run_folder: str, client: OpenMLClient, num_flows: int, flow_ids: list[Any] | None, full_refresh: bool,
                  check_new_runs: bool = False) -> int:
    """The ``num_flows`` newest flows not loaded yet (loaded or not, with ``full_refresh``), the flows
    named by id, and with ``check_new_runs`` every loaded flow (whose evaluations are listed again
    to find new runs); each flow's description from the cross-run cache (flows never change), else
    from ``flow/{id}``."""
    run = RunFolder(Path(run_folder))
    listing = list(client.flow_listing()) if num_flows > 0 or check_new_runs else []
    loaded = {} if full_refresh else LoadedRevisions(run).load()
    # A flow an earlier run could not read is not taken again (nor does it take the place of a
    # readable one) until its listing row changes; it stays listed, as a warning.
    rejected = {} if full_refresh else RejectedRecords(run).load()
    listed_as = {str(row["id"]): listed_revision(row) for row in listing}
    unloaded = [row["id"] for row in listing if str(row["id"]) not in loaded]
    skipped = {flow_id: entry for flow_id in unloaded if (entry := RejectedRecords.unchanged(rejected, str(flow_id), listed_as[str(flow_id)]))}
    newest = [flow_id for flow_id in unloaded if flow_id not in skipped][-num_flows:] if num_flows > 0 else []
    if check_new_runs:  # still listed, i.e. not deleted from OpenML
        listed = {str(row["id"]) for row in listing}
        newest += [int(flow_id) for flow_id in LoadedRevisions(run).load() if flow_id in listed]
    named, warnings = [], []
    for index, value in enumerate(flow_ids or []):
        if FLOW_ID.match(str(value).strip()):
            named.append(int(str(value).strip()))
        else:
            warnings.append({"input": f"flow_ids[{index}]", "what": "flow id", "reason": "not an OpenML flow id; ignored"})
    wanted = list(dict.fromkeys([*named, *sorted(newest, reverse=True)]))
    cache = ApiCache(run, "flows", ttl=None)
    records, errors = [], []
    progress = Progress("flows", len(wanted))
    for number, flow_id in enumerate(wanted, start=1):
        record = cache.get(str(flow_id))
        if record is None:
            try:
                record = client.flow(flow_id)
            except Exception as exc:  # one missing flow must not stop the others
                errors.append({"id": str(flow_id), "what": "flow", "reason": "not found on OpenML" if is_not_found(exc) else failure(exc),
                               **({} if is_transient(exc) else {"_key": str(flow_id), "_revision": listed_as.get(str(flow_id))})})
                continue
            cache.put(str(flow_id), record)
        records.append({**record, "id": str(flow_id)})
        if number % 100 == 0 or number == len(wanted):
            progress.advance(number - progress.done)
    cache.save()
    write_jsonl(scaffolding.raw_file(run, "flows"), records)
    errors, known = scaffolding.rejected_once(run, errors)
    warnings += known + [RejectedRecords.warning(str(flow_id), entry, "flow") for flow_id, entry in skipped.items()]
    run.write_errors(STAGE, "flows", errors)
    run.write_warnings(STAGE, "flow_ids", warnings)
    log.info("%d flows listed (%d new), %d named; %d harvested, %d errors", len(listing), len(newest), len(named), len(records), len(errors))
    return len(records)


def merge_flows(run_folder: str, full_refresh: bool) -> dict[str, int]:
    """The harvested flows, less those whose revision (with their highest run) was loaded before."""
    evaluations = evaluations_by_flow(RunFolder(Path(run_folder)))
    return scaffolding.merge_harvests(run_folder, ("flows",), lambda flow: flow_revision(flow, evaluations.get(flow["id"], [])), full_refresh)


def harvest_evaluations(run_folder: str, client: OpenMLClient, measures: list[str]) -> int:
    """The run evaluations of the harvested flows, one ``evaluation/list`` per measure and batch of
    100 flows; rows of one run are merged into one evaluation with a value per measure. Listed
    before the flows are merged: a flow's runs are part of its revision."""
    run = RunFolder(Path(run_folder))
    flow_ids = list(dict.fromkeys(int(record["id"]) for record in read_jsonl(scaffolding.raw_file(run, "flows"))))
    runs: dict[int, dict[str, Any]] = {}
    errors = []
    for measure in measures:
        try:
            rows = list(client.evaluations(measure, flow_ids)) if flow_ids else []
        except Exception as exc:  # the flows still load, without this measure; the next run asks again
            errors.append({"input": f"measure {measure}", "what": "evaluations", "reason": failure(exc), "retry": True})
            continue
        for row in rows:
            if "unreadable" in row:
                errors.append({"input": f"measure {measure}", "what": "evaluation", "reason": row["unreadable"]})
                continue
            if "value_problem" in row:
                errors.append({"id": str(row["flow_id"]), "input": f"run {row['run_id']}, measure {measure}", "what": "evaluation value",
                               "reason": f"{row['value_problem']}; left out"})
            evaluation = runs.setdefault(row["run_id"], {key: row[key] for key in (
                "run_id", "flow_id", "task_id", "setup_id", "data_id", "data_name", "uploader", "uploader_name", "upload_time")} | {"values": {}})
            evaluation["values"][measure] = row["value"]
    write_jsonl(run.file(STAGE, "evaluations.jsonl"), sorted(runs.values(), key=lambda e: e["run_id"]))
    run.write_warnings(STAGE, "evaluations", errors)
    log.info("%d run evaluations of %d flows (%d measures)", len(runs), len(flow_ids), len(measures))
    return len(runs)


def identify_entities(run_folder: str, kind: str, client: OpenMLClient, partitions: list[int] | None = None) -> int:
    """Look up the tasks and datasets the evaluations reference (descriptions only, cached: a task
    never changes, a dataset description rarely), name the users who shared the flows, and identify
    the languages the flows are described in (with ``partitions``: the keys of those only)."""
    run = RunFolder(Path(run_folder))
    evaluations = evaluations_to_process(run)
    only = None if partitions is None else tuple(partitions)

    def sorted_keys(keys: set[str]) -> list[str]:
        return sorted((key for key in keys if only is None or scaffolding.in_partitions(kind, key, only)), key=int)

    if kind == "tasks":
        keys = sorted_keys({str(e["task_id"]) for e in evaluations if str(e.get("task_id")).isdigit()})
        found = scaffolding.CachedLookups(run, "tasks", "tasks", None, lambda k: {"found": True, **client.task(int(k))}, is_not_found,
                                          is_transient).look_up(keys)
    elif kind == "datasets":
        keys = sorted_keys({str(e["data_id"]) for e in evaluations if str(e.get("data_id")).isdigit()})
        found = scaffolding.CachedLookups(run, "datasets", "datasets", timedelta(days=30), lambda k: {"found": True, **client.dataset(int(k))},
                                          is_not_found, is_transient).look_up(keys)
        name_uploaders(run, found, client)
    elif kind == "organisations":
        # OpenML users are numbered: anything else in an uploader field names no user (and the
        # sharing group mentions none).
        names = {str(e["uploader"]): e["uploader_name"] for e in evaluations if e.get("uploader_name") and str(e.get("uploader")).isdigit()}
        uploaders = {str(f["uploader"]) for f in read_jsonl(run.file(STAGE, scaffolding.MODELS_FILE)) if str(f.get("uploader")).isdigit()}
        found = {u: {"found": u in names, "name": names.get(u)} for u in sorted_keys(uploaders | set(names))}
    elif kind == "languages":
        found = scaffolding.identify_languages(run, scaffolding.mentioned_keys(OPENML, run, "languages", only))
    else:
        found = {}
    scaffolding.write_identified(run, kind, found, only)
    log.info("%s: %d identified", kind, len(found))
    return len(found)


def name_uploaders(run: RunFolder, datasets: dict[str, dict[str, Any]], client: OpenMLClient) -> None:
    """Each dataset's uploader named (one ``user/list`` request for all the datasets described);
    a dataset whose uploader cannot be named is a warning, and its uploader a stub named by the id."""
    uploaders = {str(info["uploader"]) for info in datasets.values() if info.get("found") and str(info.get("uploader")).isdigit()}
    try:
        names = client.user_names(uploaders) if uploaders else {}
    except Exception as exc:  # the datasets are still worth having; their uploaders are named by the next run
        log.warning("dataset uploaders not named: %s", exc)
        names = {}
    unnamed = []
    for key, info in datasets.items():
        if info.get("found") and info.get("uploader") is not None:
            info["uploader_name"] = names.get(str(info["uploader"]))
            if info["uploader_name"] is None:
                unnamed.append({"input": f"dataset {key}", "what": "dataset uploader",
                                "reason": f"uploader {ascii(str(info['uploader'])[:40])} could not be named; linked by its id"})
    run.write_warnings(STAGE, "dataset_uploaders", unnamed)


def identify_entities_with_connections(run_folder: str, kind: str, partitions: list[int] | None = None) -> int:
    return identify_entities(run_folder, kind, openml_client(run_folder), partitions)


def openml_client(run_folder: str) -> OpenMLClient:
    """The client from the ``openml_default`` connection; its own cache beside the source's caches."""
    from mlentory.sources.openml.hook import OpenMLHook

    return OpenMLHook(cache_dir=source_dir(RunFolder(Path(run_folder))) / "cache" / "client").get_conn()


def finish_extraction(run_folder: str, max_error_rate: float) -> dict[str, Any]:
    run = RunFolder(Path(run_folder))
    evaluations = len(evaluations_to_process(run))
    return scaffolding.finish_extraction(run_folder, max_error_rate, record_parts=("flows",), counts={"evaluations": evaluations})
