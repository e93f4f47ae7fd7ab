"""Graph nodes back to RDF, without neosemantics: the inverse of the graph's naming (``schema__name``
is ``http://schema.org/name``; a label is an ``rdf:type``; a relationship an IRI object), with each
literal's datatype from the JSON-LD context, so that the dump holds the triples the FAIR4ML
JSON-LD gives."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from rdflib import RDF, Literal, URIRef
from rdflib.term import Node

from mlentory.fair4ml.context import load_context, namespace_prefixes

if TYPE_CHECKING:
    from mlentory.stores.graph import GraphNode


def _expand(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    return namespace_prefixes().get(prefix, f"{prefix}:") + local


@functools.cache
def graph_terms() -> dict[str, tuple[URIRef, URIRef | None]]:
    """Graph name (``schema__dateCreated``) -> (predicate IRI, the literal's datatype IRI or None)."""
    terms: dict[str, tuple[URIRef, URIRef | None]] = {}
    prefixes = namespace_prefixes()
    for term, definition in load_context().items():
        if term.startswith("@") or term in prefixes:
            continue
        curie = definition if isinstance(definition, str) else definition.get("@id")
        if not curie or ":" not in curie:
            continue
        datatype = definition.get("@type") if isinstance(definition, dict) else None
        name = curie.replace(":", "__", 1)
        terms[name] = (URIRef(_expand(curie)), URIRef(_expand(datatype)) if datatype and datatype != "@id" else None)
    return terms


def _iri(graph_name: str) -> URIRef | None:
    """The IRI of a graph name that is no term of the context (a label): ``fair4ml__MLModel``."""
    if graph_name in graph_terms():
        return graph_terms()[graph_name][0]
    prefix, separator, local = graph_name.partition("__")
    namespace = namespace_prefixes().get(prefix)
    return URIRef(namespace + local) if separator and namespace else None


def _literal(value: object, datatype: URIRef | None) -> Literal:
    if datatype is not None:
        return Literal(value, datatype=datatype)
    return Literal(value)


def node_triples(node: GraphNode) -> Iterator[tuple[Node, Node, Node]]:
    subject = URIRef(node.uri)
    for label in node.labels:
        if (type_iri := _iri(label)) is not None:
            yield subject, RDF.type, type_iri
    for name, value in node.props.items():
        if name == "uri" or (predicate := _iri(name)) is None:
            continue
        datatype = graph_terms().get(name, (None, None))[1]
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                yield subject, predicate, _literal(item, datatype)
    for name, targets in node.relationships.items():
        if (predicate := _iri(name)) is not None:
            for target in targets:
                yield subject, predicate, URIRef(target)


def triples(nodes: Iterable[GraphNode]) -> Iterator[tuple[Node, Node, Node]]:
    for node in nodes:
        yield from node_triples(node)
