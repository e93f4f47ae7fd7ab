"""AI4Life / BioImage Model Zoo transformation (Airflow DAG): validated model descriptions -> FAIR4ML
JSON-LD, property groups in parallel, with the collection's datasets; every run folder the
extraction events name."""

from __future__ import annotations

from mlentory.pipeline.builders import transformation_dag
from mlentory.sources.bioimageio import SOURCE

ai4life_transformation = transformation_dag(SOURCE, doc_md=__doc__)
