"""A made-up fourth source, laid out as a source package is (the contract test copies it to
``mlentory/sources/toy/``): its manifest and its own constants."""

from __future__ import annotations

from mlentory.pipeline.source import ConnectionField, ConnectionType, EntityKind, Source
from mlentory.pools import ApiPool

TOY_POOL = ApiPool("toy_api", 1, "Tasks that call the toy catalogue")
CATALOGUE = "catalogue.jsonl"  # the toy "API": a file in <data root>/toy/inputs/


SOURCE = Source(
    key="toy", name="toy", title="Toy model zoo", package=__name__, default_schedule=None,
    connection=ConnectionType(conn_id="toy_default", conn_type="toy", hook_name="Toy catalogue",
                              hook_class_name="mlentory.sources.toy.hook.ToyHook",
                              extra_fields={"catalogue": ConnectionField("Catalogue file", "Its name in <data root>/toy/inputs/.",
                                                                         {"type": ["string", "null"], "default": CATALOGUE})}),
    pools=(TOY_POOL,),
    entity_kinds=(EntityKind("licenses"), EntityKind("keywords", TOY_POOL)),  # keywords: "looked up" in the catalogue's pool
)
