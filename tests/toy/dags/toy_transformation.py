"""Toy source transformation (an Airflow DAG built by the core)."""

from mlentory.pipeline.builders import transformation_dag
from mlentory.sources.toy import SOURCE

toy_transformation = transformation_dag(SOURCE, doc_md=__doc__)
