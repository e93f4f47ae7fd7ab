"""HuggingFace transformation (Airflow DAG): raw Hub records -> validated FAIR4ML JSON-LD, property
groups in parallel.

One run transforms every run folder its triggering extraction events name (extractions that finish
while a transformation runs are taken together by the next run), each into its own folder."""

from __future__ import annotations

from mlentory.pipeline.builders import transformation_dag
from mlentory.sources.huggingface import SOURCE

hf_transformation = transformation_dag(SOURCE, doc_md=__doc__)
