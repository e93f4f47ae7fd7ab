"""The AI4Life / BioImage Model Zoo: its manifest and its own constants (cheap to import: the DAG
files do)."""

from __future__ import annotations

from mlentory.pipeline.source import ConnectionField, ConnectionType, EntityKind, Source
from mlentory.pools import ARXIV_POOL, ApiPool

CONN_ID = "bioimageio_default"
# The zoo's servers (GitHub Pages, its artifact manager, Zenodo) publish no limit: a polite default,
# which the connection's extra may change (``requests``, ``window_seconds``).
REQUESTS, WINDOW_SECONDS = 600, 60
BIOIMAGEIO_POOL = ApiPool("bioimageio_api", 2, "Tasks that call bioimage.io (the collection and its files)")


SOURCE = Source(
    key="ai4life", name="ai4life", title="AI4Life / BioImage Model Zoo", package=__name__,
    default_schedule="@daily",
    connection=ConnectionType(
        conn_id=CONN_ID, conn_type="bioimageio", hook_name="BioImage Model Zoo",
        hook_class_name="mlentory.sources.bioimageio.hook.BioImageIOHook",
        extra_fields={
            "index_url": ConnectionField("Collection index", "The published index.json (default) or the artifact manager's live listing.",
                                         {"type": ["string", "null"]}),
            "page_size": ConnectionField("Live listing page size", "Resources per page of the live listing.",
                                         {"type": ["integer", "null"], "minimum": 1}),
            "allowed_origins": ConnectionField("More allowed servers", "Servers of the collection its descriptions may be fetched from "
                                               "(https://host:port, separated by commas).", {"type": ["string", "null"]}),
            "requests": ConnectionField("Requests per window", "The request budget every task shares.",
                                        {"type": ["integer", "null"], "minimum": 1, "default": REQUESTS}),
            "window_seconds": ConnectionField("Window (seconds)", "The budget's window.",
                                              {"type": ["number", "null"], "minimum": 1, "default": WINDOW_SECONDS}),
        },
        hidden_fields=("schema", "login", "password"),
        relabeling={"host": "Mirror (answers for the collection's servers)"},
    ),
    pools=(BIOIMAGEIO_POOL, ARXIV_POOL),
    entity_kinds=(EntityKind("organisations"), EntityKind("datasets"), EntityKind("articles", ARXIV_POOL), EntityKind("licenses"),
                  EntityKind("keywords"), EntityKind("software")),
)
