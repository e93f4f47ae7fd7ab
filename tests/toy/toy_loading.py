"""Toy source loading (an Airflow DAG built by the core)."""

from mlentory.pipeline.builders import loading_dag
from toy.source import TOY

toy_loading = loading_dag(TOY, doc_md=__doc__)
