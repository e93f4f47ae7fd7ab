"""Constants shared by every stage: where data files live and the defaults users can override."""

from __future__ import annotations

import json
import os
from pathlib import Path

# plugins/mlentory/settings.py -> the project root, which holds include/ beside plugins/.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = PROJECT_ROOT / "include" / "schemas"
CONTEXT_FILE = SCHEMAS_DIR / "fair4ml-context.jsonld"
ES_MODELS_MAPPING_FILE = SCHEMAS_DIR / "elasticsearch" / "models.json"
HF_TASKS_FILE = SCHEMAS_DIR / "hf_tasks.json"
HF_LICENSES_FILE = SCHEMAS_DIR / "hf_licenses.json"
HF_CARD_TEMPLATES_FILE = SCHEMAS_DIR / "hf_card_templates.json"

# Base of the IRIs MLentory mints for things that have no IRI of their own (keywords, tasks, ...).
MLENTORY_IRI_BASE = "https://w3id.org/mlentory/"

# When each source's extraction runs by default (the environment's MLENTORY_SCHEDULE_<KEY> overrides
# it; "none": only when triggered). The Hub changes all day; OpenML's flows rarely.
DEFAULT_SCHEDULES = {"hf": "@daily", "openml": "@weekly", "ai4life": "@daily"}
# The housekeeping DAG: when it runs (MLENTORY_SCHEDULE_HOUSEKEEPING) and how long run folders are
# kept by default (MLENTORY_RUN_RETENTION_DAYS, or its param).
HOUSEKEEPING_SCHEDULE = "@daily"
DEFAULT_RETENTION_DAYS = float(os.environ.get("MLENTORY_RUN_RETENTION_DAYS", "14"))

# Airflow Variable naming the folder under which every run folder is created.
DATA_ROOT_VARIABLE = "mlentory_data_root"
DEFAULT_DATA_ROOT = Path.home() / "mlentory-data"

# Connections (every credential lives in these, never in code or config).
HF_CONN_ID = "huggingface_default"
# The Hub's rate limits on a free token (requests per 5-minute window); the connection's extra may
# give a plan's own (``api_requests``, ``resolver_requests``, ``window_seconds``).
HF_API_REQUESTS, HF_RESOLVER_REQUESTS, HF_WINDOW_SECONDS = 1_000, 5_000, 300
# arXiv asks for one request per 3 seconds, from everyone together.
ARXIV_REQUESTS, ARXIV_WINDOW_SECONDS = 1, 3.0
# One Airflow pool per external API: the tasks of every DAG that call it share its slots, so that
# concurrent DAGs do not crowd its budget (the budgets above decide how many requests; the pools how
# many tasks wait on them). They are defined once, in include/pools.json, in the format of
# ``airflow pools import``: the local stack creates them through the REST API, the compose stack's
# airflow-init imports the file.
POOLS_FILE = PROJECT_ROOT / "include" / "pools.json"
HF_POOL, ARXIV_POOL, OPENML_POOL, BIOIMAGEIO_POOL = "huggingface_api", "arxiv_api", "openml_api", "bioimageio_api"
API_POOLS: dict[str, tuple[int, str]] = {name: (pool["slots"], pool["description"])
                                         for name, pool in json.loads(POOLS_FILE.read_text(encoding="utf-8")).items()}
# OpenML publishes no limit; a polite default, which the openml_default connection's extra may change
# (``requests``, ``window_seconds``).
OPENML_REQUESTS, OPENML_WINDOW_SECONDS = 300, 60
# The zoo's servers (GitHub Pages, its artifact manager, Zenodo) publish none either: a polite default,
# which the bioimageio_default connection's extra may change (``requests``, ``window_seconds``).
BIOIMAGEIO_REQUESTS, BIOIMAGEIO_WINDOW_SECONDS = 600, 60
NEO4J_CONN_ID = "neo4j_default"
ELASTICSEARCH_CONN_ID = "elasticsearch_default"
ARXIV_CONN_ID = "arxiv_default"
OPENML_CONN_ID = "openml_default"
BIOIMAGEIO_CONN_ID = "bioimageio_default"
# Optional: a Redis server holding what every worker shares (the request budgets), so that workers
# on several hosts need no shared disk for it.
STATE_CONN_ID = "mlentory_state"
# The Hub dataset holding the public daily dump of model cards with metadata (the bulk first harvest).
HF_DUMP_DATASET = "librarian-bots/model_cards_with_metadata"

# OpenML evaluation measures listed for harvested flows (most classification and regression tasks have them).
OPENML_MEASURES = ("predictive_accuracy", "area_under_roc_curve", "f_measure", "root_mean_squared_error", "mean_absolute_error")

# Every call to a source waits at most this long for a connection / for data (then it is retried):
# a server that never answers must not hold a worker slot forever.
HTTP_CONNECT_TIMEOUT_S = 10.0
HTTP_READ_TIMEOUT_S = 60.0
# What one task's requests together may spend waiting on answers that end in a timeout; then the
# task sends no more (``http_retry``): a stalled server costs minutes, not hours.
STALL_ALLOWANCE_S = float(os.environ.get("MLENTORY_STALL_ALLOWANCE_S", "300"))
# The longest a task may run before Airflow stops it (and retries it).
TASK_EXECUTION_TIMEOUT_S = 6 * 3600

ES_MODELS_INDEX = "mlentory_models"
# The index names a run may write to: the configured one, or one of its suffixed siblings.
ES_INDEX_PATTERN = rf"^{ES_MODELS_INDEX}(_[a-z0-9][a-z0-9_-]{{0,63}})?$"

# Records per mapped task: big enough that task overhead (seconds) is small against the work.
DEFAULT_CHUNK_SIZE = 2_000
# Airflow's default [core] max_map_length: a planning task never asks for more mapped tasks.
MAX_MAPPED_TASKS = 1_024
