"""HuggingFace loading (Airflow DAG): FAIR4ML records -> Neo4j knowledge graph (n10s shape) and
Elasticsearch index.

One run loads every run folder its triggering transformation events name; a record that two of them
carry is loaded from the newer one only."""

from __future__ import annotations

from mlentory.pipeline.builders import loading_dag
from mlentory.sources.huggingface import SOURCE

hf_loading = loading_dag(SOURCE, doc_md=__doc__)
