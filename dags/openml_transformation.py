"""OpenML transformation (Airflow DAG): flows with their run evaluations -> validated FAIR4ML JSON-LD,
property groups in parallel; every run folder the extraction events name."""

from __future__ import annotations

from mlentory.pipeline.dags import transformation_dag
from mlentory.sources import OPENML

openml_transformation = transformation_dag(OPENML, doc_md=__doc__)
