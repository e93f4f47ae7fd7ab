"""The HuggingFace Hub: its manifest and its own constants (cheap to import: the DAG files do)."""

from __future__ import annotations

from mlentory.pipeline.source import ConnectionField, ConnectionType, EntityKind, Source
from mlentory.pools import ARXIV_POOL, ApiPool
from mlentory.settings import SCHEMAS_DIR

CONN_ID = "huggingface_default"
# The Hub's rate limits on a free token (requests per 5-minute window); the connection's extra may
# give a plan's own (``api_requests``, ``resolver_requests``, ``window_seconds``).
API_REQUESTS, RESOLVER_REQUESTS, WINDOW_SECONDS = 1_000, 5_000, 300
HF_POOL = ApiPool("huggingface_api", 4, "Tasks that call the HuggingFace Hub (API and file resolver)")
# The Hub dataset holding the public daily dump of model cards with metadata (the bulk first harvest).
DUMP_DATASET = "librarian-bots/model_cards_with_metadata"
# Cards a run reads through the file resolver by default: four budget windows of a free token (5,000
# requests per 5 minutes); the rest wait in the card backlog for later runs.
MAX_CARD_FETCHES = 20_000
TASKS_FILE = SCHEMAS_DIR / "hf_tasks.json"
CARD_TEMPLATES_FILE = SCHEMAS_DIR / "hf_card_templates.json"


SOURCE = Source(
    key="hf", name="huggingface", title="HuggingFace Hub", package=__name__,
    default_schedule="@daily",  # the Hub changes all day
    connection=ConnectionType(
        conn_id=CONN_ID, conn_type="huggingface", hook_name="HuggingFace Hub",
        hook_class_name="mlentory.sources.huggingface.hook.HuggingFaceHubHook",
        extra_fields={
            "api_requests": ConnectionField("API requests per window", "The Hub API's rate limit of the token's plan.",
                                            {"type": ["integer", "null"], "minimum": 1, "default": API_REQUESTS}),
            "resolver_requests": ConnectionField("Resolver requests per window", "The file resolver's rate limit (cards).",
                                                 {"type": ["integer", "null"], "minimum": 1, "default": RESOLVER_REQUESTS}),
            "window_seconds": ConnectionField("Window (seconds)", "The rate limits' window.",
                                              {"type": ["number", "null"], "minimum": 1, "default": WINDOW_SECONDS}),
        },
        hidden_fields=("schema", "login", "port"),
        relabeling={"host": "Hub endpoint", "password": "Access token"},
        placeholders={"host": "https://huggingface.co (empty: the public Hub)"},
    ),
    pools=(HF_POOL, ARXIV_POOL),
    entity_kinds=(EntityKind("datasets", HF_POOL), EntityKind("articles", ARXIV_POOL), EntityKind("keywords"), EntityKind("tasks"),
                  EntityKind("licenses"), EntityKind("languages"), EntityKind("organisations", HF_POOL, partitioned=True)),
)
