"""Constants shared by every stage: where data files live and the defaults users can override."""

from __future__ import annotations

import os
from pathlib import Path

# plugins/mlentory/settings.py -> the project root, which holds include/ beside plugins/.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = PROJECT_ROOT / "include" / "schemas"
CONTEXT_FILE = SCHEMAS_DIR / "fair4ml-context.jsonld"
ES_MODELS_MAPPING_FILE = SCHEMAS_DIR / "elasticsearch" / "models.json"
ES_EVALUATIONS_MAPPING_FILE = SCHEMAS_DIR / "elasticsearch" / "evaluations.json"
HF_LICENSES_FILE = SCHEMAS_DIR / "hf_licenses.json"
MODEL_LICENCE_TERMS_FILE = SCHEMAS_DIR / "model_licence_terms.json"
METRICS_FILE = SCHEMAS_DIR / "metrics.json"

# Base of the IRIs MLentory mints for things that have no IRI of their own (keywords, tasks, ...).
MLENTORY_IRI_BASE = "https://w3id.org/mlentory/"

# The housekeeping DAG: when it runs (MLENTORY_SCHEDULE_HOUSEKEEPING) and how long run folders are
# kept by default (MLENTORY_RUN_RETENTION_DAYS, or its param).
HOUSEKEEPING_SCHEDULE = "@daily"
DEFAULT_RETENTION_DAYS = float(os.environ.get("MLENTORY_RUN_RETENTION_DAYS", "14"))
# The change feed's runs are kept this long: a follower (a front end, a mirror) must read it more often.
DEFAULT_FEED_RETENTION_DAYS = float(os.environ.get("MLENTORY_FEED_RETENTION_DAYS", "90"))

# Airflow Variable naming the folder under which every run folder is created.
DATA_ROOT_VARIABLE = "mlentory_data_root"
DEFAULT_DATA_ROOT = Path.home() / "mlentory-data"

# Connections (every credential lives in these, never in code or config); each source's own is in
# its manifest (``mlentory.sources``).
NEO4J_CONN_ID = "neo4j_default"
ELASTICSEARCH_CONN_ID = "elasticsearch_default"
ARXIV_CONN_ID = "arxiv_default"
# arXiv asks for one request per 3 seconds, from everyone together.
ARXIV_REQUESTS, ARXIV_WINDOW_SECONDS = 1, 3.0
# Optional: a Redis server holding what every worker shares (the request budgets), so that workers
# on several hosts need no shared disk for it.
STATE_CONN_ID = "mlentory_state"

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
# Each models index has its evaluations index beside it (one document per metric value), named alike:
# mlentory_models_<suffix> -> mlentory_evaluations_<suffix>.
ES_EVALUATIONS_INDEX = "mlentory_evaluations"
# How long one request to the index may take (a bulk request, a refresh of a large index) before it
# is sent again; the client's default is 10 s.
ES_REQUEST_TIMEOUT_S = 120
# The most models a leaderboard export ranks.
MAX_LEADERBOARD_SIZE = 1_000

# Records per mapped task: big enough that task overhead (seconds) is small against the work.
DEFAULT_CHUNK_SIZE = 2_000
# Airflow's default [core] max_map_length: a planning task never asks for more mapped tasks.
MAX_MAPPED_TASKS = 1_024
# The graph's nodes are made first, before the parallel loads, in this many partitions of their IRIs
# (a hash): the lists are written per model chunk in as many partitions. The entity records are
# merged in the same partitions, and the mentions linked in ``LINK_PARTITIONS`` of their keys. A run
# maps one task over a group of partitions per ``MODELS_PER_PARTITION_TASK`` of its models (1 for a
# small run, whose every mapped task costs seconds).
GRAPH_NODE_PARTITIONS = 8
LINK_PARTITIONS = 8
MODELS_PER_PARTITION_TASK = 50_000
