"""AI4Life / BioImage Model Zoo loading (Airflow DAG): FAIR4ML records -> the same Neo4j knowledge
graph and Elasticsearch index as every source; every run folder the transformation events name."""

from __future__ import annotations

from mlentory.pipeline.builders import loading_dag
from mlentory.sources.bioimageio import SOURCE

ai4life_loading = loading_dag(SOURCE, doc_md=__doc__)
