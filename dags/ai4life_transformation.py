"""AI4Life / BioImage Model Zoo transformation (Airflow DAG): validated model descriptions -> FAIR4ML
JSON-LD, property groups in parallel, with the collection's datasets; every run folder the
extraction events name."""

from __future__ import annotations

from mlentory.pipeline.dags import transformation_dag
from mlentory.sources import AI4LIFE

ai4life_transformation = transformation_dag(AI4LIFE, doc_md=__doc__)
