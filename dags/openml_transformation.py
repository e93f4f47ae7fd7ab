"""OpenML transformation (Airflow DAG): flows with their run evaluations -> validated FAIR4ML JSON-LD,
property groups in parallel; every run folder the extraction events name."""

from __future__ import annotations

from mlentory.pipeline.builders import transformation_dag
from mlentory.sources.openml import SOURCE

openml_transformation = transformation_dag(SOURCE, doc_md=__doc__)
