"""The loading's licence findings along the model tree (``enrichment.licence_findings``' rules), kept in
the graph and the index as the models and their licences change.

After a run's models are loaded and its history recorded, the mapped ``<source>_licence_findings``
tasks (the history tasks' shards of the model ids) find again the findings of:
- every model the run loaded that has a base (``record_lineage``, written by the model chunk tasks);
- every model whose lineage the run changed (the run's change feed), so a base removed takes its
  findings with it;
- every model in the graph based on one whose licence the run changed or that the run added (the
  feed again): a derived model loaded before its base was described is judged once the base is.

A finding is a ``mlentory:LicenceFinding`` node pointing at the derived model (``findingFor``), its
base (``findingBase``) and both licences; a model's findings are replaced whole when it is judged
again (two tasks judging the same model write the same findings: their IRIs are deterministic). Its
index document gets ``licence_findings``, the rules found (empty when none), a filter field. The
counts by rule go into the run report.

The index's field is written with the document where it can be: a model chunk's task judges its
models that have a base once they are in the graph (``rules_at_index_time``), against the bases the
graph holds by then, and remembers what it wrote. The findings tasks then update only the documents
whose rules differ from that (a base loaded later in the run, or a base's licence the run changed):
a partial update per model with a finding cost 40 ms each on the local stand-in, 250 s a task at
100,000 models.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from neo4j import Driver

from mlentory.enrichment.licence_findings import licence_findings
from mlentory.fair4ml import iris
from mlentory.fair4ml.models import LicenceFinding
from mlentory.pipeline import feed, storage
from mlentory.pipeline.run_folder import RunFolder, read_json, read_jsonl, write_json
from mlentory.pipeline.state import id_shard
from mlentory.stores.graph import GraphLoader, GraphStore
from mlentory.stores.search_index import update_documents

log = logging.getLogger(__name__)

STAGE = "loading"
LINEAGE_TERMS = frozenset({"isBasedOn", "fineTunedFrom", "quantizedFrom", "adapterOf", "mergedFrom"})
INDEX_FIELD = "licence_findings"
BATCH = 1_000


def _lineage_file(run: RunFolder, shard: int, part: str) -> Path:
    return run.file(STAGE, "lineage", f"{shard:02d}", f"{part}.json")


def _counts_file(run: RunFolder, shard: int) -> Path:
    return run.file(STAGE, "licence_findings", f"{shard:02d}.json")


def _indexed_rules_file(run: RunFolder, chunk: int) -> Path:
    return run.file(STAGE, "licence_findings_indexed", f"{chunk:05d}.json")


def rules_at_index_time(driver: Driver | GraphStore, models: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """The rules found now for the ``models`` (records just loaded into the graph) that have a base,
    ``{model IRI: [rule, ...]}`` (empty when none): what their index documents carry from the start."""
    derived = [model["@id"] for model in models if model.get("isBasedOn")]
    if not derived:
        return {}
    return {model: sorted({finding.finding_rule for finding in records}) for model, records in judge(GraphLoader(driver), derived).items()}


def record_indexed_rules(run: RunFolder, chunk: int, index: str, rules: dict[str, list[str]] | None) -> None:
    """What a chunk's documents in ``index`` carry in ``licence_findings`` (None: nothing was judged,
    so nothing is known of them: the findings tasks update them as before)."""
    path = _indexed_rules_file(run, chunk)
    if rules is None:
        path.unlink(missing_ok=True)
    else:
        write_json(path, {"index": index, "rules": rules})


def _indexed_rules(run: RunFolder, index: str) -> dict[str, list[str]]:
    """What the run's chunk tasks wrote into ``index``'s documents' ``licence_findings``."""
    written: dict[str, list[str]] = {}
    for path in run.file(STAGE, "licence_findings_indexed").glob("*.json"):
        record = read_json(path, {})
        if record.get("index") == index:
            written.update(record.get("rules", {}))
    return written


def record_lineage(run: RunFolder, part: str, models: Iterable[dict[str, Any]]) -> None:
    """The IRIs of the loaded models that have a base, by shard of their ids (a model chunk task's
    part): what the findings tasks judge, without reading the records again."""
    by_shard: dict[int, list[str]] = {}
    for model in models:
        if model.get("isBasedOn"):
            by_shard.setdefault(id_shard(model["identifier"]), []).append(model["@id"])
    for stale in run.file(STAGE, "lineage").glob(f"*/{part}.json"):  # a retried chunk starts afresh
        stale.unlink()
    for shard, uris in by_shard.items():
        write_json(_lineage_file(run, shard, part), sorted(uris))


def _candidates(run: RunFolder, shards: list[int]) -> tuple[set[str], set[str]]:
    """(the models of ``shards`` to judge, the models whose licence this run changed or that it added:
    whatever is based on them is judged too)."""
    judged: set[str] = set()
    for shard in shards:
        for path in run.file(STAGE, "lineage", f"{shard:02d}").glob("*.json"):
            judged.update(read_json(path, []))
    parents: set[str] = set()
    for shard in shards:
        part = storage.refresh(feed.part_file(run, shard))  # outside the run folder: from object storage, when the data root is there
        for entry in read_jsonl(part) if part.is_file() else ():
            if not entry.get("iri"):
                continue
            terms = set(entry["terms"])
            if terms & LINEAGE_TERMS:
                judged.add(entry["iri"])
            if entry["change"] == "added" or "license" in terms:
                parents.add(entry["iri"])
    return judged, parents


def judge(graph: GraphLoader, models: list[str]) -> dict[str, list[LicenceFinding]]:
    """Each model's findings against each of its bases, from the licences the graph holds."""
    bases = graph.bases_of(models)
    licences = graph.licences_of({*models, *(base for found in bases.values() for base in found)})
    judged: dict[str, list[LicenceFinding]] = {}
    for model in models:
        own = licences.get(model, [])
        records = []
        for base in sorted(set(bases.get(model, []))):
            theirs = licences.get(base, [])
            iri_of = {identifier.lower(): iri for iri, identifier in theirs}
            for finding in licence_findings([identifier for _, identifier in own], [identifier for _, identifier in theirs]):
                records.append(LicenceFinding(
                    id=iris.licence_finding_iri(model, base, finding.rule, finding.base_licence),
                    name=f"possible licence conflict: {finding.rule}", description=finding.explanation,
                    finding_for=model, finding_base=base, finding_rule=finding.rule,
                    base_license=[iri_of[finding.base_licence]] if finding.base_licence in iri_of else [],
                    model_license=sorted(iri for iri, _ in own), finding_clause=finding.clause, url=finding.url,
                    judged_by=finding.by))
        judged[model] = records
    return judged


def find_licence_conflicts(run_folders: list[str], shards: list[int], driver: Driver | GraphStore, es: Elasticsearch,
                           index: str) -> dict[str, int]:
    """Judge the models of ``shards`` the runs touched (see the module), replace their findings in
    the graph and their index field, and leave the counts for the report. Returns the counts by rule."""
    graph = GraphLoader(driver)
    indexed = es.indices.exists(index=index)  # a graph-only load (the benchmark's --no-index) has none
    total: Counter[str] = Counter()
    updated = 0
    for run_folder in run_folders:
        run = RunFolder(Path(run_folder))
        judged, parents = _candidates(run, shards)
        models = sorted(judged | graph.derived_from(parents))
        written = _indexed_rules(run, index) if indexed else {}
        updated_before = updated
        counts: Counter[str] = Counter()
        for start in range(0, len(models), BATCH):
            batch = models[start:start + BATCH]
            findings = judge(graph, batch)
            had = graph.delete_pointing_at(batch, "findingFor")
            _, errors = graph.load(record.to_jsonld() for records in findings.values() for record in records)
            run.write_errors(STAGE, f"licence_findings_{shards[0]:02d}_{start // BATCH:05d}", errors)
            if indexed:  # only the documents whose findings differ from what they carry
                updated += update_documents(es, index, _changed_fields(findings, had, written), refresh=False)
            counts.update(finding.finding_rule for records in findings.values() for finding in records)
            counts["models with a finding"] += sum(1 for records in findings.values() if records)
        counts["models judged"] += len(models)
        write_json(_counts_file(run, shards[0]), dict(counts))  # one file per task (named by its first shard): the report adds them up
        log.info("licence findings of %d models (shards %s): %s; %d index documents updated", len(models), shards, dict(counts), updated - updated_before)
        total += counts
    if updated:  # once: a refresh of a large index per batch cost seconds each (3.5 s a batch at 100,000 documents on the local stand-in)
        es.indices.refresh(index=index)
    return dict(total)


def _changed_fields(findings: dict[str, list[LicenceFinding]], had: set[str], written: dict[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    """The index field of each judged model whose document may not carry its rules: one indexed in
    this run with other rules, or else one with findings now or before (most models have none, before
    and after)."""
    changed = {}
    for model, records in findings.items():
        rules = sorted({finding.finding_rule for finding in records})
        differs = rules != written[model] if model in written else bool(records) or model in had
        if differs:
            changed[model] = {INDEX_FIELD: rules}
    return changed


def findings_counts(run: RunFolder) -> dict[str, int]:
    """The run's licence findings by rule, with the models judged and the models with a finding."""
    total: Counter[str] = Counter()
    for path in run.file(STAGE, "licence_findings").glob("*.json"):
        total.update(read_json(path, {}))
    return {name: count for name, count in sorted(total.items()) if count}
