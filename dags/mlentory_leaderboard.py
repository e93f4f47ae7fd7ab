"""A leaderboard across sources (Airflow DAG, run on demand): the best models on one dataset by one
metric, whatever source reported the values (Hub model-index results, OpenML runs), each model once
with its best value, written to the data root as ``leaderboards/<dataset>__<metric>.json`` and
``.csv``. The dataset: its IRI, an OpenML data set (``openml:61``) or a Hub dataset id; the same data
at another source counts too. The metric: a term of the metric vocabulary (``accuracy``, ``f1``,
``f1-macro``, ``word-error-rate``, ...; ``include/schemas/metrics.json``)."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from mlentory.pipeline.dag_arguments import DEFAULT_ARGS, START_DATE
from mlentory.settings import ES_MODELS_INDEX, MAX_LEADERBOARD_SIZE


@dag(
    dag_id="mlentory_leaderboard",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["mlentory", "evaluations"],
    doc_md=__doc__,
    params={
        "dataset": Param("openml:61", type="string", minLength=1, maxLength=300,
                         description="The dataset: its IRI, openml:<id>, or a Hub dataset id (stanfordnlp/imdb)."),
        "metric": Param("accuracy", type="string", minLength=1, maxLength=100,
                        description="A term of the metric vocabulary, or a name it knows (acc, F1 Macro, wer)."),
        "size": Param(10, type="integer", minimum=1, maximum=MAX_LEADERBOARD_SIZE, description="How many models to rank."),
        "index": Param(ES_MODELS_INDEX, type="string", pattern=f"^{ES_MODELS_INDEX}(_[a-z0-9][a-z0-9_-]{{0,63}})?$",
                       description="The models index whose evaluations index to read."),
    },
)
def mlentory_leaderboard() -> None:
    @task
    def export_leaderboard(params: dict[str, Any] | None = None) -> dict[str, Any]:
        from mlentory.pipeline import leaderboards
        from mlentory.pipeline.storage import configured_data_root

        return leaderboards.export_with_connections(params["dataset"], params["metric"], params["size"], params["index"],
                                                    configured_data_root())

    export_leaderboard()


mlentory_leaderboard()
