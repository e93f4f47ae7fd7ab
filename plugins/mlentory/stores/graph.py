"""Load FAIR4ML JSON-LD records into Neo4j in the shape neosemantics (n10s) gives RDF.

Every resource is a ``:Resource`` node keyed by ``uri``; its JSON-LD type becomes a label
(``fair4ml__MLModel``), literal terms become properties and reference terms relationships, named
``<prefix>__<localName>`` from the JSON-LD context (n10s ``handleVocabUris: "SHORTEN"``, prefixes in
the ``_NsPrefDef`` node). A production Neo4j with n10s can therefore export the graph as RDF.

Re-loading a record replaces it: ``SET n = $props`` drops properties that disappeared upstream, and
the record's outgoing FAIR4ML relationships are deleted and re-created in the same transaction.
Records embedded in a record (a model's evaluations and their metric values: JSON-LD node objects)
are nodes of their own that belong to it: a reload deletes them and writes them anew, so an
evaluation removed upstream does not survive. Stub records (``load(..., stubs=True)``) are written
only where no described node exists, so a stub never replaces what a full record wrote.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import AuthError, ConstraintError, ServiceUnavailable, SessionExpired, TransientError

from mlentory.fair4ml.context import is_reference, load_context, namespace_prefixes, shortened
from mlentory.fair4ml.models import embedded_terms, embedding_depth

log = logging.getLogger(__name__)

# Errors that say the store cannot be reached, whatever the records: they fail the task (and Airflow
# retries it) instead of turning every record of the batch into a record error.
STORE_UNAVAILABLE = (ServiceUnavailable, SessionExpired, AuthError, ConnectionError, OSError)
# Two tasks writing the same node at once (a shared base model, keyword or licence): Neo4j answers
# with a deadlock (a TransientError its driver retries for a while), the local stand-in also with a
# uniqueness violation on MERGE. Neither is the record's fault: the write is tried again.
WRITE_CONFLICTS = (TransientError, ConstraintError)
CONFLICT_ATTEMPTS = 5
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
GRAPH_CONFIG = {
    "_handleVocabUris": "SHORTEN",
    "_handleMultival": "ARRAY",
    "_handleRDFTypes": "LABELS",
    "_keepLangTag": False,
    "_keepCustomDataTypes": False,
    "_applyNeo4jNaming": False,
}


def _name(term: str) -> str:
    name = shortened(term)
    if not IDENTIFIER.match(name):  # names go into Cypher text: only our own context's, checked
        raise ValueError(f"unsafe graph name {name!r} for term {term!r}")
    return name


def managed_relationship_types() -> list[str]:
    return sorted(_name(term) for term in load_context() if not term.startswith("@") and is_reference(term))


@dataclass
class GraphNode:
    """A node as read back from the graph (``GraphLoader.read_nodes``)."""

    uri: str
    labels: list[str]
    props: dict[str, Any]
    relationships: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class GraphRow:
    uri: str
    label: str
    props: dict[str, Any]
    relationships: dict[str, list[str]] = field(default_factory=dict)


def _terms(record: dict[str, Any]) -> Iterator[tuple[str, Any, list[Any], list[dict[str, Any]]]]:
    """Each term of a record but its JSON-LD keywords: its value, its values as a list, and the
    records among them it embeds (a dict with its own ``@id``)."""
    for term, value in record.items():
        if not term.startswith("@"):
            values = value if isinstance(value, list) else [value]
            yield term, value, values, [v for v in values if isinstance(v, dict) and "@id" in v]


def graph_rows(record: dict[str, Any]) -> list[GraphRow]:
    """The record's node, then the nodes of the records it embeds (depth first)."""
    props: dict[str, Any] = {"uri": record["@id"]}
    relationships: dict[str, list[str]] = {}
    embedded_rows: list[GraphRow] = []
    for term, value, values, nodes in _terms(record):
        if nodes:
            relationships[_name(term)] = [node["@id"] for node in nodes]
            for node in nodes:
                embedded_rows += graph_rows(node)
        elif is_reference(term):
            relationships[_name(term)] = values
        elif any(isinstance(v, dict) for v in values):
            props[_name(term)] = json.dumps(value, sort_keys=True)
        else:
            props[_name(term)] = value
    return [GraphRow(uri=record["@id"], label=_name(record["@type"]), props=props, relationships=relationships), *embedded_rows]


def linked_nodes(record: dict[str, Any]) -> set[str]:
    """The record's IRI and every IRI it links to, without the records it embeds (they are its own,
    written with it): the relationships' targets of ``graph_rows``, found without building the rows
    (every normalized record is walked for its nodes, and the rows' properties were most of that)."""
    embedded: set[str] = set()
    targets: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        for term, _, values, nodes in _terms(node):
            if nodes:
                for child in nodes:
                    embedded.add(child["@id"])
                    walk(child)
            elif is_reference(term):
                targets.update(values)

    walk(record)
    return {record["@id"]} | (targets - embedded)


def graph_row(record: dict[str, Any]) -> GraphRow:
    return graph_rows(record)[0]


def _delete_embedded(tx: ManagedTransaction, uris: list[str]) -> None:
    """Delete the nodes the records at ``uris`` embed, deepest first (they are written anew)."""
    types = [_name(term) for term in embedded_terms()]
    for depth in range(embedding_depth(), 0, -1):
        path = "".join(f"-[r{i}]->(c{i})" for i in range(1, depth + 1))
        condition = " AND ".join(f"type(r{i}) IN $types" for i in range(1, depth + 1))
        tx.run(f"UNWIND $uris AS uri MATCH (n:Resource {{uri: uri}}){path} WHERE {condition} DETACH DELETE c{depth}",
               uris=uris, types=types).consume()


def _write_stubs(tx: ManagedTransaction, rows: list[GraphRow]) -> None:
    # A node with a name was written by a full record (or an earlier stub): leave it as it is.
    tx.run(
        "UNWIND $rows AS row MERGE (n:Resource {uri: row.uri}) WITH n, row WHERE n.schema__name IS NULL SET n = row.props",
        rows=[{"uri": r.uri, "props": r.props} for r in rows],
    ).consume()


def _write_nodes(tx: ManagedTransaction, rows: list[GraphRow], rel_types: list[str]) -> None:
    """The nodes' properties replaced, their outgoing FAIR4ML relationships removed (written anew)."""
    tx.run(
        "UNWIND $rows AS row MERGE (n:Resource {uri: row.uri}) SET n = row.props",
        rows=[{"uri": r.uri, "props": r.props} for r in rows],
    ).consume()
    tx.run(
        "UNWIND $uris AS uri MATCH (n:Resource {uri: uri})-[r]->() WHERE type(r) IN $types DELETE r",
        uris=[r.uri for r in rows], types=rel_types,
    ).consume()


def _write_relationships(tx: ManagedTransaction, rows: list[GraphRow]) -> None:
    """The rows' outgoing relationships, which ``_write_nodes`` removed: created, each once (no
    MERGE needed to find an existing one)."""
    by_type: dict[str, dict[tuple[str, str], None]] = defaultdict(dict)
    for row in rows:
        for rel_type, targets in row.relationships.items():
            by_type[rel_type].update(((row.uri, target), None) for target in targets)
    for rel_type, pairs in by_type.items():
        tx.run(
            f"UNWIND $pairs AS p MATCH (a:Resource {{uri: p.from}}) "
            f"MERGE (b:Resource {{uri: p.to}}) CREATE (a)-[:{rel_type}]->(b)",
            pairs=[{"from": source, "to": target} for source, target in pairs],
        ).consume()


def _write_labels(tx: ManagedTransaction, rows: list[GraphRow]) -> None:
    by_label: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_label[row.label].append(row.uri)
    for label, uris in by_label.items():
        tx.run(f"UNWIND $uris AS uri MATCH (n:Resource {{uri: uri}}) SET n:{label}", uris=uris).consume()


@dataclass(frozen=True)
class GraphStore:
    """The graph store a connection names: its driver and the database to use (the connection's
    ``schema``, as the Neo4j provider's hook reads it; None: the server's default database)."""

    driver: Driver
    database: str | None = None

    def session(self, **config: Any):  # noqa: ANN201 - neo4j.Session
        """A session on the store's database (``config`` as ``Driver.session`` takes it)."""
        return self.driver.session(**({"database": self.database} if self.database and "database" not in config else {}), **config)


class GraphLoader:
    def __init__(self, driver: Driver | GraphStore, database: str | None = None, batch_size: int = 1_000) -> None:
        if isinstance(driver, GraphStore):
            driver, database = driver.driver, database or driver.database
        self.driver = driver
        self.database = database
        self.batch_size = batch_size

    def _session(self):  # noqa: ANN202 - neo4j's Session
        return self.driver.session(database=self.database) if self.database else self.driver.session()

    def ensure_schema(self) -> None:
        """Uniqueness of ``Resource.uri`` (what n10s requires) and the n10s config and prefix nodes."""
        with self._session() as session:
            session.run(
                "CREATE CONSTRAINT n10s_unique_uri IF NOT EXISTS FOR (r:Resource) REQUIRE r.uri IS UNIQUE"
            ).consume()
            session.execute_write(lambda tx: tx.run("MERGE (c:_GraphConfig {_id: 1}) SET c += $config", config=GRAPH_CONFIG).consume())
            session.execute_write(lambda tx: tx.run("MERGE (p:_NsPrefDef {_id: 1}) SET p += $prefixes", prefixes=namespace_prefixes()).consume())

    def write_batch(self, records: list[dict[str, Any]], stubs: bool = False) -> None:
        rows = [row for record in records for row in graph_rows(record)]
        with self._session() as session:
            if stubs:
                session.execute_write(_write_stubs, rows)
                session.execute_write(_write_labels, rows)
                return
            # Embedded nodes are deleted in a transaction of their own: the local stand-in
            # (ArcadeDB) checks uniqueness against a node deleted in the same transaction.
            session.execute_write(_delete_embedded, [record["@id"] for record in records])
            session.execute_write(_write_nodes, rows, managed_relationship_types())
            # Labels in a transaction of their own: the local stand-in rejects adding a label to a
            # node created in the same transaction. Before the relationships: it moves a node that
            # gets a label, with its relationships (twice as slow with them). Neo4j minds neither.
            # A failure in between leaves a node to be completed by the retry, which rewrites it whole.
            session.execute_write(_write_labels, rows)
            session.execute_write(_write_relationships, rows)

    def _write_with_conflict_retries(self, records: list[dict[str, Any]], stubs: bool) -> None:
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                self.write_batch(records, stubs)
                return
            except WRITE_CONFLICTS as exc:
                if attempt == CONFLICT_ATTEMPTS:
                    raise
                pause = random.uniform(0.1, 0.5) * 2 ** attempt  # jitter: the two writers must not meet again
                log.info("write conflict on a batch of %d (%s); again in %.1fs", len(records), type(exc).__name__, pause)
                time.sleep(pause)

    def create_nodes(self, uris: Iterable[str]) -> int:
        """Bare ``:Resource`` nodes for these IRIs where none exists, in batches, in IRI order.

        Run by one writer before the parallel loads: then no two transactions ever create the same
        node (a base model, keyword or licence that many records link to), and the parallel writers
        only match nodes, never collide on creating one. Returns the count of IRIs given."""
        ordered = sorted(set(uris))
        with self._session() as session:
            for start in range(0, len(ordered), self.batch_size * 10):
                batch = ordered[start:start + self.batch_size * 10]
                session.execute_write(lambda tx, b=batch: tx.run("UNWIND $uris AS uri MERGE (:Resource {uri: uri})", uris=b).consume())
        return len(ordered)

    def update_properties(self, updates: dict[str, dict[str, Any]]) -> int:
        """Literal properties of existing nodes, by IRI and JSON-LD term (``{iri: {"downloads": 3}}``),
        in place: nothing else of the node changes, and an IRI with no node is left alone. Returns
        the count of nodes updated."""
        rows = [{"uri": iri, "props": {shortened(term): value for term, value in values.items()}} for iri, values in updates.items() if values]
        updated = 0
        with self._session() as session:
            for start in range(0, len(rows), self.batch_size):
                batch = rows[start:start + self.batch_size]
                updated += session.execute_write(lambda tx, b=batch: tx.run(
                    "UNWIND $rows AS row MATCH (n:Resource {uri: row.uri}) SET n += row.props RETURN count(n) AS c", rows=b).single()["c"])
        return updated

    def read_nodes(self, uris: Iterable[str]) -> Iterator[GraphNode]:
        """The nodes at these IRIs as the graph holds them (labels, properties, outgoing
        relationships), in batches: what an RDF export writes. IRIs with no node are left out."""
        ordered = sorted(set(uris))
        with self._session() as session:
            for start in range(0, len(ordered), self.batch_size):
                batch = ordered[start:start + self.batch_size]
                nodes = {row["uri"]: GraphNode(row["uri"], [label for label in row["labels"] if label != "Resource"], dict(row["props"]))
                         for row in session.execute_read(lambda tx, b=batch: tx.run(
                             "UNWIND $uris AS uri MATCH (n:Resource {uri: uri}) RETURN n.uri AS uri, labels(n) AS labels, properties(n) AS props",
                             uris=b).data())}
                for row in session.execute_read(lambda tx, b=batch: tx.run(
                        "UNWIND $uris AS uri MATCH (n:Resource {uri: uri})-[r]->(m:Resource) RETURN n.uri AS uri, type(r) AS type, m.uri AS target",
                        uris=b).data()):
                    nodes[row["uri"]].relationships.setdefault(row["type"], []).append(row["target"])
                yield from nodes.values()

    def read_terms(self, uris: Iterable[str], terms: Iterable[str]) -> dict[str, dict[str, Any]]:
        """What the graph holds for these JSON-LD terms (literal ones) of the nodes at ``uris``:
        ``{uri: {term: value}}``; nodes that do not exist yet are left out."""
        names = {term: _name(term) for term in terms}
        return {node.uri: {term: node.props[name] for term, name in names.items() if node.props.get(name) is not None}
                for node in self.read_nodes(uris)}

    def _batched_rows(self, query: str, uris: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The rows of a read ``query`` over ``$uris``, the IRIs in batches (in IRI order), in one session."""
        ordered = sorted(set(uris))
        with self._session() as session:
            for start in range(0, len(ordered), self.batch_size):
                yield from session.execute_read(lambda tx, b=ordered[start:start + self.batch_size]: tx.run(query, uris=b).data())

    def licences_of(self, uris: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """The licences (schema:license) of the nodes at ``uris``: ``{uri: [(licence IRI, its identifier)]}``;
        a node without one is left out."""
        found: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in self._batched_rows(f"UNWIND $uris AS uri MATCH (n:Resource {{uri: uri}})-[:{_name('license')}]->(l:Resource) "
                                      f"RETURN uri, l.uri AS licence, l.{_name('identifier')} AS identifier", uris):
            found[row["uri"]].append((row["licence"], row["identifier"] or row["licence"].rsplit("/", 1)[-1]))
        return dict(found)

    def bases_of(self, uris: Iterable[str]) -> dict[str, list[str]]:
        """The bases (schema:isBasedOn, which every lineage term implies) of the nodes at ``uris``."""
        found: dict[str, list[str]] = defaultdict(list)
        for row in self._batched_rows(f"UNWIND $uris AS uri MATCH (n:Resource {{uri: uri}})-[:{_name('isBasedOn')}]->(b:Resource) "
                                      "RETURN uri, b.uri AS base", uris):
            found[row["uri"]].append(row["base"])
        return dict(found)

    def derived_from(self, uris: Iterable[str]) -> set[str]:
        """The nodes based on (schema:isBasedOn) any node at ``uris``."""
        # From the node found by its key: the local stand-in plans the other way round as a scan.
        return {row["uri"] for row in self._batched_rows(
            f"UNWIND $uris AS uri MATCH (:Resource {{uri: uri}})<-[:{_name('isBasedOn')}]-(d:Resource) RETURN DISTINCT d.uri AS uri", uris)}

    def same_as(self, uri: str, hops: int = 2) -> list[str]:
        """The node at ``uri`` and the nodes one or two ``schema:sameAs`` steps away either way (two:
        two datasets that name one DOI are the same through it), ``uri`` first."""
        rows = self._batched_rows(f"UNWIND $uris AS uri MATCH (:Resource {{uri: uri}})-[:{_name('sameAs')}*1..{int(hops)}]-(o:Resource) "
                                  "RETURN DISTINCT o.uri AS uri", [uri])
        return [uri, *sorted({row["uri"] for row in rows} - {uri})]

    def delete_pointing_at(self, uris: Iterable[str], term: str) -> set[str]:
        """Delete every node whose ``term`` relationship points at a node at ``uris`` (what was found
        about them, to be found anew). Returns the IRIs that had any."""
        ordered, had = sorted(set(uris)), set()
        with self._session() as session:
            for start in range(0, len(ordered), self.batch_size):
                had.update(row["uri"] for row in session.execute_write(lambda tx, b=ordered[start:start + self.batch_size]: tx.run(
                    f"UNWIND $uris AS uri MATCH (:Resource {{uri: uri}})<-[:{_name(term)}]-(f:Resource) "
                    "DETACH DELETE f RETURN DISTINCT uri", uris=b).data()))
        return had

    def load(self, records: Iterable[dict[str, Any]], stubs: bool = False) -> tuple[int, list[dict[str, Any]]]:
        """Load records in batches; a failing batch is retried record by record so that one bad
        record is reported alone. A write conflict with another writer is retried first.
        ``stubs``: write only where no described node exists. Returns (loaded count, errors)."""
        loaded, errors, batch = 0, [], []

        def flush(batch: list[dict[str, Any]]) -> None:
            nonlocal loaded
            if not batch:
                return
            try:
                self._write_with_conflict_retries(batch, stubs)
                loaded += len(batch)
                return
            except (*STORE_UNAVAILABLE, *WRITE_CONFLICTS):
                # The store, or another writer that still holds what this batch writes: not the
                # records' fault, never a reason to write one record per transaction. The task
                # fails and Airflow retries it.
                raise
            except Exception as exc:
                if len(batch) == 1:
                    errors.append({"iri": batch[0]["@id"], "reason": f"graph: {type(exc).__name__}: {str(exc)[:300]}"})
                    return
                log.warning("batch of %d failed (%s); loading one by one", len(batch), exc)
            for record in batch:
                flush([record])

        for record in records:
            batch.append(record)
            if len(batch) >= self.batch_size:
                flush(batch)
                batch = []
        flush(batch)
        return loaded, errors
