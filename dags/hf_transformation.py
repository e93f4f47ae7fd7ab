"""HuggingFace transformation (Airflow DAG): raw Hub records -> validated FAIR4ML JSON-LD, property
groups in parallel.

One run transforms every run folder its triggering extraction events name (extractions that finish
while a transformation runs are taken together by the next run), each into its own folder."""

from __future__ import annotations

from mlentory.pipeline.dags import transformation_dag
from mlentory.sources import HUGGINGFACE

hf_transformation = transformation_dag(HUGGINGFACE, doc_md=__doc__)
