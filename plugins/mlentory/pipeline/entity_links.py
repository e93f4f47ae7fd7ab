"""Entity linking in partitions: mentions -> IRIs and entity records, no task holding the whole run's.

One linking task held every distinct mention of a run with its entity record: 737 MB at a million
models, and every normalization task then read the run's whole mention table. Here:

1. Each property chunk task lists its chunk's distinct mentions by partition of their key
   (``mentions/<partition>/<chunk>.json``, CRC-32 of kind and key, ``LINK_PARTITIONS``).
2. Each linking task links the mentions of its partitions, one partition at a time: it writes the
   partition's mention -> IRIs table (``links/<partition>.json``), each chunk's share of it
   (``links/chunks/<chunk>/<partition>.json``, all a normalization task reads), and its entity records
   by partition of their IRI (``entities/parts/<IRI partition>/<partition>.jsonl``).
3. Each merge task merges the records of its IRI partitions (two mentions, in two partitions, may
   name one entity: its names are merged) and writes ``entities/<kind>/<IRI partition>.jsonld``. The
   IRI partitions are the graph's node partitions, so a node task reads only its own.

The tasks are one per ``MODELS_PER_PARTITION_TASK`` models, each taking every so-many partition
(one task for a small run).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mlentory.fair4ml.jsonld import read_jsonld, write_jsonld
from mlentory.fair4ml.linking import NAMED_BY_MANY, with_names_merged
from mlentory.fair4ml.mentions import Mention, iter_mentions, mention, mention_partition
from mlentory.fair4ml.models import ENTITY_MODELS, STUB_KINDS, STUBS
from mlentory.pipeline.extraction import read_identified
from mlentory.pipeline.graph_nodes import node_partition, write_entity_node_lists
from mlentory.pipeline.partitions import task_partitions
from mlentory.pipeline.run_folder import RunFolder, read_json, read_jsonl, write_json, write_jsonl
from mlentory.pipeline.source import Source
from mlentory.settings import GRAPH_NODE_PARTITIONS, LINK_PARTITIONS

log = logging.getLogger(__name__)

STAGE = "transformation"
LINKED_KINDS = (*ENTITY_MODELS, *STUB_KINDS)
Links = dict[str, dict[str, list[str]]]  # kind -> mention key -> IRIs


def _mentions_file(run: RunFolder, partition: int, chunk: int) -> Path:
    return run.file(STAGE, "mentions", f"{partition:02d}", f"{chunk:05d}.json")


def _links_file(run: RunFolder, partition: int) -> Path:
    return run.file(STAGE, "links", f"{partition:02d}.json")


def _chunk_links_file(run: RunFolder, chunk: int, partition: int) -> Path:
    return run.file(STAGE, "links", "chunks", f"{chunk:05d}", f"{partition:02d}.json")


def _parts_file(run: RunFolder, iri_partition: int, partition: int) -> Path:
    return run.file(STAGE, "entities", "parts", f"{iri_partition:02d}", f"{partition:02d}.jsonl")


def _entities_file(run: RunFolder, kind: str, iri_partition: int) -> Path:
    return run.file(STAGE, "entities", kind, f"{iri_partition:02d}.jsonld")


def _counts_file(run: RunFolder, iri_partition: int) -> Path:
    return run.file(STAGE, "entities", "counts", f"{iri_partition:02d}.json")


class ChunkMentions:
    """A chunk's distinct mentions by partition, each as the first record of the chunk to name it
    wrote it (its extra fields, a title or a name, are what the linker reads)."""

    def __init__(self) -> None:
        self.by_partition: list[dict[tuple[str, str], Mention]] = [{} for _ in range(LINK_PARTITIONS)]

    def add(self, properties: dict[str, Any]) -> None:
        for m in iter_mentions(properties):
            self.by_partition[mention_partition(m["kind"], m["key"])].setdefault((m["kind"], m["key"]), m)

    def write(self, run: RunFolder, chunk: int) -> None:
        """Every partition's list, though empty (a linking task reads each chunk's)."""
        for partition, mentions in enumerate(self.by_partition):
            write_json(_mentions_file(run, partition, chunk), list(mentions.values()))


def plan_link_tasks(run_folders: list[str]) -> list[dict[str, Any]]:
    """The linking (and merge) tasks: (run folder, its partitions), one per ``MODELS_PER_PARTITION_TASK``
    of the folder's models."""
    jobs = []
    for run_folder in run_folders:
        models = read_json(RunFolder(Path(run_folder)).file(STAGE, "plan.json"), {}).get("models", 0)
        jobs += [{"run_folder": run_folder, "partitions": partitions} for partitions in task_partitions(models, LINK_PARTITIONS)]
    return jobs


def _identified(run: RunFolder, partitions: set[int]) -> dict[str, dict[str, Any]]:
    """What the extraction's lookups found of each entity kind, keys of ``partitions`` only."""
    return {kind: read_identified(run, kind, partitions) for kind in set(ENTITY_MODELS)}


def link_partitions(source: Source, run_folder: str, partitions: list[int]) -> dict[str, int]:
    """Link the mentions of ``partitions``, one partition at a time. Returns the distinct mentions
    linked and the entity records written (before the merge)."""
    run = RunFolder(Path(run_folder))
    chunks = read_json(run.file(STAGE, "plan.json"), {}).get("chunks", 0)
    identified = _identified(run, set(partitions))
    totals = {"mentions": 0, "records": 0, "errors": 0}
    for partition in partitions:
        for name, count in _link_partition(source, run, partition, chunks, identified).items():
            totals[name] += count
    log.info("linked partitions %s: %s", partitions, totals)
    return totals


def _link_partition(source: Source, run: RunFolder, partition: int, chunks: int,
                    identified: dict[str, dict[str, Any]]) -> dict[str, int]:
    linkers = source.mapping.linkers
    links: Links = defaultdict(dict)
    records: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)  # kind -> IRI -> record
    errors: list[dict[str, Any]] = []

    def link(m: Mention, info: dict[str, Any]) -> list[str]:
        """The mention's IRIs, its entities' records kept; a record that fails is an error and links nothing."""
        try:
            target_iris, entity_records = linkers[m["kind"]](m, info)
        except (ValidationError, ValueError) as exc:
            errors.append({"kind": m["kind"], "key": m["key"], "reason": f"linking: {exc}"})
            return []
        for entity_kind, record in entity_records:
            _keep(records, entity_kind, record.to_jsonld())
        return target_iris

    for chunk in range(chunks):
        for m in read_json(_mentions_file(run, partition, chunk), []):
            if m["key"] not in links[m["kind"]]:
                links[m["kind"]][m["key"]] = link(m, identified.get(m["kind"], {}).get(m["key"]) or {})
    # Entities identified though no record of this run mentions them: lookups an earlier run
    # deferred (its API budget spent), completed now; their nodes, named stubs until now, get the record.
    for kind, infos in identified.items():
        for key, info in infos.items():
            if mention_partition(kind, key) == partition and key not in links[kind] and kind in linkers:
                link(mention(kind, key), info)
    if partition == 0 and source.mapping.entities:  # the source's own entity records, once per run
        for entity_kind, record in source.mapping.entities(run):
            _keep(records, entity_kind, record.to_jsonld())
    write_json(_links_file(run, partition), links)
    for chunk in range(chunks):  # each chunk's share, all its normalization task reads
        share: Links = defaultdict(dict)
        for m in read_json(_mentions_file(run, partition, chunk), []):
            share[m["kind"]][m["key"]] = links[m["kind"]][m["key"]]
        write_json(_chunk_links_file(run, chunk, partition), share)
    parts: list[list[dict[str, Any]]] = [[] for _ in range(GRAPH_NODE_PARTITIONS)]
    for kind, by_iri in records.items():
        for iri, entity in by_iri.items():
            parts[node_partition(iri)].append({"kind": kind, "record": entity})
    for iri_partition, rows in enumerate(parts):
        write_jsonl(_parts_file(run, iri_partition, partition), rows)
    run.write_errors(STAGE, f"linking_{partition:02d}", errors)
    return {"mentions": sum(map(len, links.values())), "records": sum(map(len, parts)), "errors": len(errors)}


def _keep(records: dict[str, dict[str, dict[str, Any]]], kind: str, record: dict[str, Any]) -> None:
    """A record kept, merged with an earlier one of its IRI where several sources of names name it."""
    earlier = records[kind].get(record["@id"])
    records[kind][record["@id"]] = with_names_merged(record, earlier) if earlier and kind in NAMED_BY_MANY else record


def merge_entities(run_folder: str, partitions: list[int]) -> dict[str, int]:
    """The entity records of the IRI ``partitions``, from every linking partition, merged by IRI; a
    stub left out where the entity is described. Returns the records written per kind."""
    run = RunFolder(Path(run_folder))
    totals: dict[str, int] = dict.fromkeys(LINKED_KINDS, 0)
    for iri_partition in partitions:
        records: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for path in sorted(run.file(STAGE, "entities", "parts", f"{iri_partition:02d}").glob("*.jsonl")):
            for row in read_jsonl(path):
                _keep(records, row["kind"], row["record"])
        described = {iri for kind in ENTITY_MODELS for iri in records[kind]}
        records[STUBS] = {iri: record for iri, record in records[STUBS].items() if iri not in described}
        counts = {kind: write_jsonld(_entities_file(run, kind, iri_partition), sorted(records[kind].values(), key=lambda r: r["@id"]))
                  for kind in LINKED_KINDS}
        write_entity_node_lists(run, iri_partition, (record for kind in LINKED_KINDS for record in records[kind].values()))
        write_json(_counts_file(run, iri_partition), counts)
        for kind, count in counts.items():
            totals[kind] += count
    log.info("merged entities of partitions %s: %s", partitions, totals)
    return totals


def entity_files(run: RunFolder, kind: str, iri_partitions: Iterable[int] | None = None) -> list[Path]:
    """The files of a kind's entity records (of ``iri_partitions``, all: None); a run folder
    transformed before the partitions has one file per kind."""
    if not run.file(STAGE, "entities", kind).is_dir():
        return [run.file(STAGE, "entities", f"{kind}.jsonld")]
    wanted = range(GRAPH_NODE_PARTITIONS) if iri_partitions is None else iri_partitions
    return [_entities_file(run, kind, iri_partition) for iri_partition in wanted]


def read_entities(run: RunFolder, kind: str, iri_partitions: Iterable[int] | None = None) -> Iterator[dict[str, Any]]:
    for path in entity_files(run, kind, iri_partitions):
        yield from read_jsonld(path)


def entity_counts(run: RunFolder, kinds: Iterable[str] = LINKED_KINDS) -> dict[str, int]:
    """Records per kind, from the merge tasks' counts (read from the records for an older folder)."""
    counted = [read_json(_counts_file(run, iri_partition)) for iri_partition in range(GRAPH_NODE_PARTITIONS)]
    if all(found is not None for found in counted):
        return {kind: sum(found.get(kind, 0) for found in counted) for kind in kinds}
    return {kind: sum(1 for _ in read_entities(run, kind)) for kind in kinds}


def chunk_links(run: RunFolder, chunk: int) -> Links:
    """The mention -> IRIs table of the chunk's mentions (the run's whole table for an older folder)."""
    shares = [read_json(_chunk_links_file(run, chunk, partition)) for partition in range(LINK_PARTITIONS)]
    if any(share is None for share in shares):
        legacy: Links = read_json(run.file(STAGE, "links.json"), {})
        return legacy
    links: Links = defaultdict(dict)
    for share in shares:
        for kind, by_key in share.items():
            links[kind].update(by_key)
    return links


def links_of(run: RunFolder, mentions: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """The IRIs of some (kind, key) mentions, from their partitions' tables only."""
    wanted: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for kind, key in mentions:
        wanted[mention_partition(kind, key)].append((kind, key))
    found = {}
    legacy = None
    for partition, pairs in wanted.items():
        table = read_json(_links_file(run, partition))
        if table is None:
            legacy = read_json(run.file(STAGE, "links.json"), {}) if legacy is None else legacy
            table = legacy
        for kind, key in pairs:
            found[(kind, key)] = table.get(kind, {}).get(key, [])
    return found
