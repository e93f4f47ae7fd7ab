"""Loading stage: a transformed run folder -> the graph and the search index.

Each public function is the body of one task of a ``*_loading`` DAG; the stores' clients come in
from the Airflow hooks (Neo4jHook, ElasticsearchSQLHook), so every credential stays in Connections.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from neo4j import Driver

from mlentory.errors import InvalidInput
from mlentory.fair4ml.completeness import FIELDS, completeness
from mlentory.fair4ml.jsonld import read_jsonld
from mlentory.fair4ml.linking import NAMED_BY_MANY, with_names_merged
from mlentory.fair4ml.metrics import term_records as metric_term_records
from mlentory.fair4ml.models import ENTITY_KINDS, STUB_KINDS
from mlentory.pipeline import feed, graph_nodes, history, licence_graph, report
from mlentory.pipeline.entity_links import entity_counts, entity_files, links_of, read_entities
from mlentory.pipeline.extraction import SKIPPED_FILE, STATISTICS, WITHDRAWN_FILE
from mlentory.pipeline.extraction import STAGE as EXTRACTION
from mlentory.pipeline.partitions import task_partitions
from mlentory.pipeline.quality import Progress, check_error_rate
from mlentory.pipeline.run_folder import RunFolder, read_json, read_jsonl, write_json, write_jsonl
from mlentory.pipeline.source import Source
from mlentory.pipeline.state import LoadedRevisions, RejectedRecords
from mlentory.pipeline.transformation import models_file
from mlentory.settings import ES_INDEX_PATTERN, ES_MODELS_INDEX, GRAPH_NODE_PARTITIONS, MAX_MAPPED_TASKS
from mlentory.stores.graph import GraphLoader, GraphStore
from mlentory.stores.search_index import (
    EntityLabel,
    delete_documents,
    ensure_index,
    entity_label,
    index_models,
    label_from_json,
    refresh_indices,
    update_documents,
)

log = logging.getLogger(__name__)

STAGE = "loading"
TRANSFORMATION = "transformation"
LOADED_ENTITY_KINDS = (*ENTITY_KINDS, *STUB_KINDS)


def prepare_graph(driver: Driver | GraphStore) -> None:
    """The graph's schema, and the metric vocabulary's terms (the nodes every run's metric values
    link to: a few hundred, written again in place)."""
    loader = GraphLoader(driver)
    loader.ensure_schema()
    loaded, errors = loader.load([term.to_jsonld() for term in metric_term_records()])
    if errors:
        raise RuntimeError(f"the metric vocabulary's terms could not be loaded: {errors[:3]}")


def _model_chunks(run: RunFolder) -> range:
    """The transformed model chunks, as the transformation's plan counts them."""
    return range(read_json(run.file(TRANSFORMATION, "plan.json"), {}).get("chunks", 0))


def _model_chunk_files(run: RunFolder) -> list[Path]:
    return [models_file(run, chunk) for chunk in _model_chunks(run)]


def _entity_files(run: RunFolder) -> list[Path]:
    return [path for kind in LOADED_ENTITY_KINDS for path in entity_files(run, kind)]


def plan_loading(run_folders: list[str]) -> list[dict[str, Any]]:
    """Plan one loading run; returns its entity jobs, (run folder, entity kind, IRI partitions: one
    group for a small run, more as it grows), for mapped tasks.

    Several run folders load in parallel. A record that a newer folder of the same run also carries
    is *superseded* in the older one (listed in its ``loading/superseded.json``) and loaded from the
    newer one only, so that an older revision never overwrites a newer one. A run of one folder has
    nothing superseded: its records are not read here."""
    folders = _oldest_first(run_folders)
    newer: set[str] = set()
    for run in reversed(folders if len(folders) > 1 else []):
        iris = {r["@id"] for path in [*_model_chunk_files(run), *_entity_files(run)] for r in read_jsonld(path)}
        write_json(run.file(STAGE, "superseded.json"), sorted(iris & newer))
        newer |= iris
    if len(folders) == 1:
        write_json(folders[0].file(STAGE, "superseded.json"), [])
    return [{"run_folder": str(run.path), "kind": kind, "partitions": partitions} for run in folders
            for partitions in task_partitions(_models_of(run)) for kind in LOADED_ENTITY_KINDS]


def _models_of(run: RunFolder) -> int:
    models: int = read_json(run.file(TRANSFORMATION, "plan.json"), {}).get("models", 0)
    return models


def plan_node_tasks(run_folders: list[str]) -> list[list[int]]:
    """The node partitions of each of the run's node tasks (``create_graph_nodes``): one task for a
    small run, more as it grows (``partitions.task_partitions``)."""
    return task_partitions(sum(_models_of(run) for run in _oldest_first(run_folders)))


def create_graph_nodes(run_folders: list[str], driver: Driver | GraphStore, partitions: list[int] | None = None) -> int:
    """Every node of ``partitions`` (all: None) the loading run writes or links to (records and the
    resources they name, not the records they embed), made before the parallel entity and model loads,
    so that those never create the same node in two transactions; no two node tasks make the same node
    either (a node is in one partition). The models' nodes come from the lists the transformation's
    chunk tasks wrote. On the way, each model chunk's labels of the entities it links to in these
    partitions are written for its task (``_chunk_labels``): no chunk task reads every entity's.
    Returns the count of nodes made sure of."""
    partitions = list(range(GRAPH_NODE_PARTITIONS)) if partitions is None else partitions
    wanted = set(partitions)
    nodes: set[str] = set()
    for run in _oldest_first(run_folders):
        labels = {record["@id"]: entity_label(record)  # of this run's entities in the partitions
                  for kind in LOADED_ENTITY_KINDS for record in read_entities(run, kind, partitions)
                  if graph_nodes.node_partition(record["@id"]) in wanted}
        nodes.update(graph_nodes.entity_nodes(run, partitions, _entity_files(run)))
        for chunk in _model_chunks(run):  # one read of the chunk's lists (or, without them, of its records)
            linked: dict[int, dict[str, EntityLabel]] = {partition: {} for partition in partitions}
            for iri in graph_nodes.chunk_nodes(run, chunk, partitions, models_file(run, chunk)):
                nodes.add(iri)
                if iri in labels:
                    linked[graph_nodes.node_partition(iri)][iri] = labels[iri]
            for partition, chunk_labels in linked.items():
                write_json(_labels_file(run, chunk, partition), chunk_labels)
    count = GraphLoader(driver).create_nodes(nodes)
    log.info("graph: %d nodes of partitions %s made sure of before the parallel loads", count, partitions)
    return count


def record_history(run_folders: list[str], partitions: list[int]) -> int:
    """The history of the models the chunk tasks loaded, in the shards of ``partitions`` (grouped as
    the node tasks: ``plan_node_tasks``): each model's values compared with its last load, a row for
    each that changed; and the revisions loaded, for the next incremental run. A mapped task each,
    after the model loads; the report only adds up the counts. Returns the history's rows recorded."""
    shards = history.shards_of(partitions, GRAPH_NODE_PARTITIONS)
    at = datetime.now(UTC)
    return sum(_record_shards(run, shards, at) for run in _oldest_first(run_folders))


def find_licence_findings(run_folders: list[str], partitions: list[int], driver: Driver | GraphStore, es: Elasticsearch,
                          index: str) -> dict[str, int]:
    """The licence findings of the models the runs touched, in the history tasks' shards of
    ``partitions`` (``licence_graph``): a mapped task each, after the history (it reads the change
    feed). Returns the findings by rule."""
    _checked_index(index)
    shards = history.shards_of(partitions, GRAPH_NODE_PARTITIONS)
    return licence_graph.find_licence_conflicts([str(run.path) for run in _oldest_first(run_folders)], shards, driver, es, index)


def _record_shards(run: RunFolder, shards: list[int] | None, at: datetime) -> int:
    """What the chunk tasks spilled to ``shards`` (all: None): the models' history, and their
    revisions as loaded (no longer rejected, if an earlier run rejected them). Returns the history's rows."""
    rows = history.record_spilled(run, at, shards)
    RejectedRecords(run).forget(LoadedRevisions(run).record_spilled(shards))
    return rows


def _labels_file(run: RunFolder, chunk: int, partition: int) -> Path:
    return run.file(STAGE, "labels", f"{chunk:05d}", f"{partition:02d}.json")


def _chunk_labels(run: RunFolder, chunk: int) -> dict[str, EntityLabel]:
    """The labels of the entities the chunk's models link to, as the node tasks wrote them; every
    entity's when they did not (a run folder loaded before the node tasks wrote labels)."""
    parts = [read_json(_labels_file(run, chunk, partition)) for partition in range(GRAPH_NODE_PARTITIONS)]
    if any(part is None for part in parts):
        return entity_labels(run)
    return {iri: label_from_json(label) for part in parts for iri, label in part.items()}


def plan_model_loads(run_folders: list[str]) -> list[dict[str, Any]]:
    """The model jobs of one loading run, (run folder, model chunk), for mapped tasks; what each
    chunk's task needs of its whole run folder is written once (``chunk_inputs``)."""
    jobs = [{"run_folder": str(run.path), "chunk": chunk} for run in _oldest_first(run_folders) for chunk in _model_chunks(run)]
    if len(jobs) > MAX_MAPPED_TASKS:
        raise InvalidInput(f"{len(run_folders)} run folders need {len(jobs)} model chunk loads, more than Airflow maps "
                           f"({MAX_MAPPED_TASKS}): load them in several runs (the run_folder param)")
    for run in _oldest_first(run_folders):
        write_chunk_inputs(run)
    return jobs


CHUNK_INPUTS = "chunk_inputs.json"


def write_chunk_inputs(run: RunFolder) -> dict[str, Any]:
    """What every model chunk's task needs of the whole run folder, found once: what failed
    transiently (``RetryMarkers``). (The labels of the entities a chunk links to are its own:
    ``_chunk_labels``.)"""
    retry = RetryMarkers.of_run(run)
    inputs = {"retry_record_ids": sorted(retry.record_ids), "retry_iris": sorted(retry.iris)}
    write_json(run.file(STAGE, CHUNK_INPUTS), inputs)
    return inputs


def _retry_markers(run: RunFolder) -> RetryMarkers:
    inputs = read_json(run.file(STAGE, CHUNK_INPUTS)) or write_chunk_inputs(run)
    return RetryMarkers(inputs["retry_record_ids"], inputs["retry_iris"])


def _oldest_first(run_folders: list[str]) -> list[RunFolder]:
    return [RunFolder(Path(run_folder)) for run_folder in sorted(run_folders, key=lambda f: Path(f).name)]


def superseded(run: RunFolder) -> set[str]:
    """IRIs of this folder's records that a newer run folder loaded in the same run carries."""
    return set(read_json(run.file(STAGE, "superseded.json"), []))


def _current(records: list[dict[str, Any]], run: RunFolder) -> list[dict[str, Any]]:
    skipped = superseded(run)
    return [r for r in records if r["@id"] not in skipped] if skipped else records


def load_entities(run_folder: str, kind: str, driver: Driver | GraphStore, partitions: list[int] | None = None) -> int:
    """The run's ``kind`` entities of the IRI ``partitions`` (all: None) into the graph."""
    run = RunFolder(Path(run_folder))
    records = _current(list(read_entities(run, kind, partitions)), run)
    loader = GraphLoader(driver)
    if kind in NAMED_BY_MANY:
        # Names an earlier run gave the same resource stay (as one name and alternateName), so the
        # node is the same in any load order and any split into runs.
        held = loader.read_terms((r["@id"] for r in records), ("name", "alternateName"))
        records = [with_names_merged(r, held[r["@id"]]) if r["@id"] in held else r for r in records]
    loaded, errors = loader.load(records, stubs=kind in STUB_KINDS)
    run.write_errors(STAGE, f"graph_{kind}" if partitions is None else f"graph_{kind}_{min(partitions, default=0):02d}", errors)
    log.info("graph: %d/%d %s of partitions %s loaded, %d errors", loaded, len(records), kind, partitions, len(errors))
    return loaded


def load_models(run_folder: str, chunk: int, driver: Driver | GraphStore) -> int:
    run = RunFolder(Path(run_folder))
    return _load_graph(run, chunk, read_jsonld(models_file(run, chunk)), driver)


def _load_graph(run: RunFolder, chunk: int, models: list[dict[str, Any]], driver: Driver | GraphStore) -> int:
    _account_file(run, chunk).unlink(missing_ok=True)  # made again after this load (``account_chunk``)
    records = _current(models, run)
    progress = Progress(f"graph models chunk {chunk}", len(records))
    loaded, errors = GraphLoader(driver).load(records)
    progress.advance(loaded)
    run.write_errors(STAGE, f"graph_models_{chunk:05d}", errors)
    return loaded


def load_model_chunk(run_folder: str, chunk: int, driver: Driver | GraphStore, es: Elasticsearch, index: str) -> int:
    """One chunk of models into the graph and the index, and its share of the run's report
    (``account_chunk``): the mapped task of a model chunk, so N workers divide all three; the
    chunk's models and the run's chunk inputs are read once for the three. The documents carry the
    licence findings judged once the chunk is in the graph (``licence_graph.rules_at_index_time``).
    Returns the models loaded into the graph."""
    _checked_index(index)
    run = RunFolder(Path(run_folder))
    models = read_jsonld(models_file(run, chunk))
    loaded = _load_graph(run, chunk, models, driver)
    _index(run, chunk, models, _chunk_labels(run, chunk), es, index, licence_graph.rules_at_index_time(driver, _current(models, run)))
    _account(run, chunk, models, _retry_markers(run))
    return loaded


def chunk_licence_rules(run_folder: str, chunk: int, driver: Driver | GraphStore) -> dict[str, list[str]]:
    """The licence findings' rules of a chunk's models that have a base, the chunk loaded into the
    graph (``load_model_chunk``'s step between the graph and the index, on its own)."""
    run = RunFolder(Path(run_folder))
    return licence_graph.rules_at_index_time(driver, _current(read_jsonld(models_file(run, chunk)), run))


def _checked_index(index: str) -> None:
    if not re.match(ES_INDEX_PATTERN, index or ""):
        raise InvalidInput(f"index must be {ES_MODELS_INDEX} or {ES_MODELS_INDEX}_<suffix> (lowercase letters, digits, _ and -)")


def _indexed_file(run: RunFolder, chunk: int) -> Path:
    return run.file(STAGE, "indexed", f"{chunk:05d}.json")


def index_chunk(run_folder: str, chunk: int, es: Elasticsearch, index: str, rules: dict[str, list[str]] | None = None) -> int:
    """One chunk's model documents into the index, not yet refreshed (``finish_index`` refreshes
    once: each refresh makes a new segment), with their licence findings' ``rules`` when they are
    known (``chunk_licence_rules``). Returns the documents indexed."""
    _checked_index(index)
    run = RunFolder(Path(run_folder))
    return _index(run, chunk, read_jsonld(models_file(run, chunk)), _chunk_labels(run, chunk), es, index, rules)


def _index(run: RunFolder, chunk: int, models: list[dict[str, Any]], labels: dict[str, EntityLabel], es: Elasticsearch, index: str,
           rules: dict[str, list[str]] | None = None) -> int:
    _account_file(run, chunk).unlink(missing_ok=True)  # made again after this load (``account_chunk``)
    ensure_index(es, index)
    records = _current(models, run)
    fields = {model: {licence_graph.INDEX_FIELD: found} for model, found in rules.items()} if rules else None
    indexed, errors = index_models(es, index, records, labels, refresh=False, fields=fields)
    licence_graph.record_indexed_rules(run, chunk, index, rules)
    run.write_errors(STAGE, f"index_{chunk:05d}", errors)
    write_json(_indexed_file(run, chunk), {"index": index, "documents": indexed})
    log.info("index %s: chunk %d -> %d documents (%d errors)", index, chunk, indexed, len(errors))
    return indexed


def finish_index(run_folder: str, es: Elasticsearch, index: str) -> int:
    """The index's part of the run done: chunks no mapped task indexed into ``index`` are indexed
    here, in turn; then one refresh. Returns the run's documents."""
    _checked_index(index)
    run = RunFolder(Path(run_folder))
    ensure_index(es, index)
    total = 0
    for chunk in _model_chunks(run):
        done = read_json(_indexed_file(run, chunk))
        total += done["documents"] if done and done["index"] == index else index_chunk(run_folder, chunk, es, index)
    refresh_indices(es, index)
    return total


def index_run_models(run_folder: str, es: Elasticsearch, index: str) -> int:
    """Every model chunk of the run into the index, in one call (``index_chunk`` each, then ``finish_index``)."""
    _checked_index(index)
    run = RunFolder(Path(run_folder))
    for chunk in _model_chunks(run):
        index_chunk(run_folder, chunk, es, index)
    return finish_index(run_folder, es, index)


def _account_file(run: RunFolder, chunk: int) -> Path:
    return run.file(STAGE, "accounts", f"{chunk:05d}.json")


def account_chunk(run_folder: str, chunk: int) -> dict[str, Any]:
    """One chunk's share of the run's report, made by the chunk's own task: counts, field coverage
    and completeness of the models it loaded, the revisions to remember (loaded completely) and to
    forget (loaded incompletely or not at all), and its models' history digests (``history.spill_loads``).
    ``finish_loading`` adds the chunks up."""
    run = RunFolder(Path(run_folder))
    return _account(run, chunk, read_jsonld(models_file(run, chunk)), _retry_markers(run))


def _account(run: RunFolder, chunk: int, models: list[dict[str, Any]], retry: RetryMarkers) -> dict[str, Any]:
    failed = {e["iri"] for part in (f"graph_models_{chunk:05d}", f"index_{chunk:05d}")
              for e in read_jsonl(run.error_file(STAGE, part)) if e.get("iri")}
    newer = superseded(run)
    loaded = [m for m in models if m["@id"] not in failed and m["@id"] not in newer]
    coverage: Counter[str] = Counter()
    quality = CompletenessCounts()
    for model in loaded:
        coverage.update(field for field, value in model.items() if not field.startswith("@") and value not in (None, "", [], {}))
        quality.add(model)
    incomplete = retry.incomplete(loaded)
    history.spill_loads(run, loaded, f"{chunk:05d}")
    licence_graph.record_lineage(run, f"{chunk:05d}", loaded)  # the models with a base: the licence findings judge them
    LoadedRevisions(run).spill(
        f"{chunk:05d}",
        # Every model loaded completely, its revision "" where the source gives none (compared
        # with nothing: such a model is processed again whenever harvested), so the count is the catalogue's.
        {m["identifier"]: m.get("sourceSha") or "" for m in loaded if m.get("identifier") and m["identifier"] not in incomplete},
        # Loaded incompletely, or not at all: an earlier clean load's entry would make the next
        # run skip the model and keep the gap for good (a full_refresh of the same revision).
        incomplete | {m["identifier"] for m in models if m["@id"] in failed and m.get("identifier")})
    account = {
        "models": len(models), "superseded": sum(1 for m in models if m["@id"] in newer), "loaded": len(loaded), "incomplete": len(incomplete),
        "coverage": dict(coverage), "quality": quality.state(),
    }
    write_json(_account_file(run, chunk), account)
    return account


def entity_labels(run: RunFolder) -> dict[str, EntityLabel]:
    """IRI -> (code, name) of every entity the run's models link to, for the search documents."""
    return {record["@id"]: entity_label(record) for kind in LOADED_ENTITY_KINDS for record in read_entities(run, kind)}


def _iris_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _iris_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _iris_in(item)


class RetryMarkers:
    """What failed transiently in a run: the records built while one of their inputs failed (the
    card, a linked dataset, account or paper) are loaded as they are but not recorded as loaded, so
    the next run builds them again instead of skipping them with the gap for good."""

    def __init__(self, record_ids: Iterable[str], iris: Iterable[str]) -> None:
        self.record_ids, self.iris = set(record_ids), set(iris)

    @classmethod
    def of_run(cls, run: RunFolder) -> RetryMarkers:
        """From the run's errors, warnings and links (the transformation's mention -> IRIs table)."""
        retried = [w for w in run.warnings() if w.get("retry") and "key" in w]
        links = links_of(run, {(w["kind"], w["key"]) for w in retried})
        return cls({e["id"] for e in run.errors() if e["stage"] == "extraction" and e.get("retry")},
                   {iri for w in retried for iri in links[(w["kind"], w["key"])]})

    def incomplete(self, records: list[dict[str, Any]]) -> set[str]:
        """Identifiers of the ``records`` to build again."""
        return {r["identifier"] for r in records
                if r.get("identifier") in self.record_ids or (self.iris and not self.iris.isdisjoint(_iris_in(r)))}


STATISTICS_FILE = "statistics_refreshed.json"
WITHDRAWN_REPORT = "withdrawn.json"


def apply_freshness(source: Source, run_folder: str, driver: Driver | GraphStore, es: Elasticsearch, index: str) -> dict[str, int]:
    """What changed at the source without a new revision: counts of unchanged models, and models
    gone from it."""
    return {"statistics_refreshed": refresh_statistics(source, run_folder, driver, es, index),
            "withdrawn": withdraw_models(source, run_folder, driver, es, index)}


def withdraw_models(source: Source, run_folder: str, driver: Driver | GraphStore, es: Elasticsearch, index: str) -> int:
    """Models the extraction found gone from the source: marked ``withdrawn`` (with the date) in the
    graph, where what links to them still finds them; removed from the search index; forgotten by
    the incremental state, so that one coming back is processed again."""
    run = RunFolder(Path(run_folder))
    rows = list(read_jsonl(run.file(EXTRACTION, WITHDRAWN_FILE)))
    if not rows:
        return 0
    by_id = {r["id"]: {"withdrawn": r["withdrawn"]} for r in rows}
    iri_of = {model_id: source.mapping.model_iri(model_id) for model_id in by_id}
    iris = {iri_of[model_id]: marks for model_id, marks in by_id.items()}
    marked = GraphLoader(driver).update_properties(iris)
    removed = delete_documents(es, index, list(iris))
    LoadedRevisions(run).remove(set(by_id))
    history.record_changes(run, by_id, datetime.now(UTC), iri_of)
    write_json(run.file(STAGE, WITHDRAWN_REPORT), {"models": len(rows), "graph_nodes": marked, "index_documents_removed": removed})
    log.info("%d models withdrawn: %d graph nodes marked, %d index documents removed", len(rows), marked, removed)
    return len(rows)


def refresh_statistics(source: Source, run_folder: str, driver: Driver | GraphStore, es: Elasticsearch, index: str) -> int:
    """The counts (downloads, likes) of the models the extraction skipped as unchanged, updated in
    place in the graph and the index: they change every day without a new revision, and re-running
    the transformation for them would cost far more than these two writes."""
    run = RunFolder(Path(run_folder))
    by_id = {row["id"]: row[STATISTICS] for row in read_jsonl(run.file(EXTRACTION, SKIPPED_FILE)) if row.get(STATISTICS)}
    iri_of = {model_id: source.mapping.model_iri(model_id) for model_id in by_id}
    updates = {iri_of[model_id]: counts for model_id, counts in by_id.items()}
    graph = GraphLoader(driver).update_properties(updates) if updates else 0
    documents = update_documents(es, index, updates) if updates else 0
    history.record_changes(run, by_id, datetime.now(UTC), iri_of)
    write_json(run.file(STAGE, STATISTICS_FILE), {"models": len(updates), "graph_nodes": graph, "index_documents": documents})
    log.info("statistics of %d unchanged models refreshed: %d graph nodes, %d index documents", len(updates), graph, documents)
    return len(updates)


class CompletenessCounts:
    """Per source, of the models loaded: how many fill each field a catalogue user relies on, how
    many meet the minimum, and the mean completeness score (``fair4ml.completeness``)."""

    def __init__(self) -> None:
        self.models: Counter[str] = Counter()
        self.fields: dict[str, Counter[str]] = defaultdict(Counter)
        self.minimum: Counter[str] = Counter()
        self.scores: Counter[str] = Counter()

    def add(self, model: dict[str, Any]) -> None:
        source, found = str(model.get("source")), completeness(model)
        self.models[source] += 1
        self.fields[source].update(found["filled"])
        self.minimum[source] += found["minimum"]
        self.scores[source] += found["score"]

    def state(self) -> dict[str, Any]:
        """What ``merge`` adds up (JSON)."""
        return {"models": dict(self.models), "fields": {source: dict(c) for source, c in self.fields.items()},
                "minimum": dict(self.minimum), "scores": dict(self.scores)}

    def merge(self, state: dict[str, Any]) -> None:
        self.models.update(state["models"])
        for source, fields in state["fields"].items():
            self.fields[source].update(fields)
        self.minimum.update(state["minimum"])
        self.scores.update(state["scores"])

    def by_source(self) -> dict[str, dict[str, Any]]:
        return {source: {"models": count, "minimum_metadata": self.minimum[source], "mean_score": round(self.scores[source] / count, 4),
                         "fields": {name: self.fields[source][name] for name in FIELDS}}
                for source, count in sorted(self.models.items())}


def finish_loading(run_folder: str, max_error_rate: float) -> dict[str, Any]:
    """Consolidate the run's errors, remember what was loaded (for incremental runs), report."""
    run = RunFolder(Path(run_folder))
    all_errors = run.errors()
    write_jsonl(run.path / "errors.jsonl", all_errors)
    warnings = run.warnings()
    write_jsonl(run.path / "warnings.jsonl", warnings)
    failed_to_load = {e["iri"] for e in all_errors if e["stage"] == STAGE}
    counts: Counter[str] = Counter()
    coverage: Counter[str] = Counter()
    quality = CompletenessCounts()
    for chunk in _model_chunks(run):  # each chunk's account, made by its task (here, for a chunk no task accounted for)
        account = read_json(_account_file(run, chunk)) or account_chunk(run_folder, chunk)
        counts.update({key: account[key] for key in ("models", "superseded", "loaded", "incomplete")})
        coverage.update(account["coverage"])
        quality.merge(account["quality"])
        if "revisions" in account:  # an account made before the revisions were spilled by shard
            LoadedRevisions(run).spill(f"{chunk:05d}", account["revisions"], account["rebuild"])
    _record_shards(run, None, datetime.now(UTC))  # the shards no history task recorded (none: all were)
    changed = history.changes_recorded(run)
    catalogued = LoadedRevisions(run).count()
    transformed = read_json(run.file(TRANSFORMATION, "plan.json"), {}).get("models", counts["models"])
    record_errors = len(failed_to_load) + (transformed - counts["models"])
    summary = {
        "run_folder": run_folder,
        "models_loaded": counts["loaded"],
        "max_error_rate": max_error_rate,
        "models_failed": record_errors,
        "models_superseded": counts["superseded"],
        "entities": entity_counts(run, LOADED_ENTITY_KINDS),
        "errors": len(all_errors),
        "errors_by_part": dict(Counter(f"{e['stage']}/{e['part']}" for e in all_errors)),
        "warnings": len(warnings),
        "models_retried_next_run": counts["incomplete"],
        "statistics_refreshed": read_json(run.file(STAGE, STATISTICS_FILE), {}).get("models", 0),
        "withdrawn": read_json(run.file(STAGE, WITHDRAWN_REPORT), {}).get("models", 0),
        "models_changed": changed,
        "models_catalogued": catalogued,  # of the source, in all runs: loaded completely, not withdrawn
        "feed": feed.publish(run, history.feed_counts(run)),  # the run's changes, for a front end or a mirror to follow
        "licence_findings": licence_graph.findings_counts(run),
        "warnings_by_kind": dict(Counter(w.get("what") or w["part"] for w in warnings)),
    }
    write_json(run.file(STAGE, "report.json"), summary)
    check_error_rate(STAGE, record_errors, transformed, max_error_rate)
    # The run's report (all stages), shown in this task's log: the UI's view of what the run did.
    run_report = report.build_report(run, summary, coverage, counts["loaded"], quality.by_source())
    log.info("run report (also in %s):\n%s", run.path / "report.md", report.write_report(run, run_report))
    summary = {**summary, "report": run_report}
    run.mark_done(STAGE, summary)
    return summary


EXPORT_FORMATS = {"ntriples": ("nt", "nt"), "turtle": ("turtle", "ttl")}  # param value -> (rdflib format, file suffix)


def export_run(run_folder: str, driver: Driver | GraphStore, rdf_format: str) -> dict[str, Any]:
    """What this run loaded, as the graph now holds it, into ``<run>/export/``: an RDF dump
    (``graph.nt`` or ``graph.ttl``, read back from the graph without neosemantics: every node of the
    run's records, their embedded nodes, their labels, properties and outgoing relationships) and the
    FAIR4ML JSON-LD (``fair4ml.jsonld``: the run's records in one document). Streams batch by batch;
    nothing when ``rdf_format`` is ``none``."""
    if not rdf_format or rdf_format == "none":
        return {"run_folder": run_folder, "exported": False}
    if rdf_format not in EXPORT_FORMATS:
        raise InvalidInput(f"export format must be one of {', '.join(EXPORT_FORMATS)}")
    import rdflib

    from mlentory.fair4ml.context import load_context, namespace_prefixes
    from mlentory.fair4ml.rdf import node_triples
    from mlentory.pipeline.run_folder import dumps
    from mlentory.stores.graph import graph_rows

    run = RunFolder(Path(run_folder))
    failed = {e["iri"] for e in run.errors(STAGE) if e.get("iri")}
    files = _entity_files(run) + _model_chunk_files(run)
    target = run.path / "export"
    target.mkdir(exist_ok=True)
    serializer, suffix = EXPORT_FORMATS[rdf_format]
    rdf_path, jsonld_path = target / f"graph.{suffix}", target / "fair4ml.jsonld"
    counts: Counter[str] = Counter()
    exported: set[str] = set()
    with (rdf_path.with_suffix(".tmp")).open("w", encoding="utf-8") as rdf, jsonld_path.with_suffix(".tmp").open("w", encoding="utf-8") as jsonld:
        jsonld.write('{"@context": ' + dumps(load_context()) + ', "@graph": [\n')
        for path in files:
            records = [r for r in _current(read_jsonld(path), run) if r["@id"] not in failed] if path.exists() else []
            for record in records:
                jsonld.write((",\n" if counts["records"] else "") + dumps(record))
                counts["records"] += 1
            # A node is written once, though several files name it (a harvested model is also
            # another's base model).
            uris = {row.uri for record in records for row in graph_rows(record)} - exported
            exported |= uris
            graph = rdflib.Graph()
            for prefix, namespace in namespace_prefixes().items():
                graph.bind(prefix, namespace)
            for node in GraphLoader(driver).read_nodes(uris):
                counts["nodes"] += 1
                for triple in node_triples(node):
                    graph.add(triple)
            counts["triples"] += len(graph)
            if len(graph):
                rdf.write(graph.serialize(format=serializer))
        jsonld.write("\n]}\n")
    rdf_path.with_suffix(".tmp").replace(rdf_path)
    jsonld_path.with_suffix(".tmp").replace(jsonld_path)
    log.info("export: %d records, %d nodes, %d triples -> %s, %s", counts["records"], counts["nodes"], counts["triples"], rdf_path, jsonld_path)
    return {"run_folder": run_folder, "exported": True, "rdf": str(rdf_path), "jsonld": str(jsonld_path), **counts}
