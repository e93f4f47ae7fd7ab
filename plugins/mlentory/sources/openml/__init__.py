"""OpenML: its manifest and its own constants (cheap to import: the DAG files do)."""

from __future__ import annotations

from mlentory.pipeline.source import ConnectionField, ConnectionType, EntityKind, Source
from mlentory.pools import ApiPool

CONN_ID = "openml_default"
# OpenML publishes no limit: a polite default, which the connection's extra may change
# (``requests``, ``window_seconds``).
REQUESTS, WINDOW_SECONDS = 300, 60
OPENML_POOL = ApiPool("openml_api", 2, "Tasks that call the OpenML API")
# Evaluation measures listed for harvested flows (most classification and regression tasks have them).
MEASURES = ("predictive_accuracy", "area_under_roc_curve", "f_measure", "root_mean_squared_error", "mean_absolute_error")


SOURCE = Source(
    key="openml", name="openml", title="OpenML", package=__name__,
    default_schedule="@weekly",  # flows rarely change
    connection=ConnectionType(
        conn_id=CONN_ID, conn_type="openml", hook_name="OpenML", hook_class_name="mlentory.sources.openml.hook.OpenMLHook",
        extra_fields={
            "requests": ConnectionField("Requests per window", "The request budget every task shares.",
                                        {"type": ["integer", "null"], "minimum": 1, "default": REQUESTS}),
            "window_seconds": ConnectionField("Window (seconds)", "The budget's window.",
                                              {"type": ["number", "null"], "minimum": 1, "default": WINDOW_SECONDS}),
        },
        relabeling={"host": "OpenML server", "password": "API key (reading needs none)"},
        placeholders={"host": "https://www.openml.org (empty: the public server)"},
    ),
    pools=(OPENML_POOL,),
    # Languages are named from a library, not asked for.
    entity_kinds=(EntityKind("tasks", OPENML_POOL), EntityKind("datasets", OPENML_POOL), EntityKind("organisations", OPENML_POOL),
                  EntityKind("languages")),
)
