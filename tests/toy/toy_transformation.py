"""Toy source transformation (an Airflow DAG built by the core)."""

from mlentory.pipeline.builders import transformation_dag
from toy.source import TOY

toy_transformation = transformation_dag(TOY, doc_md=__doc__)
