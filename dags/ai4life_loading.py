"""AI4Life / BioImage Model Zoo loading (Airflow DAG): FAIR4ML records -> the same Neo4j knowledge
graph and Elasticsearch index as every source; every run folder the transformation events name."""

from __future__ import annotations

from mlentory.pipeline.dags import loading_dag
from mlentory.sources import AI4LIFE

ai4life_loading = loading_dag(AI4LIFE, doc_md=__doc__)
