"""Toy source loading (an Airflow DAG built by the core)."""

from mlentory.pipeline.builders import loading_dag
from mlentory.sources.toy import SOURCE

toy_loading = loading_dag(SOURCE, doc_md=__doc__)
