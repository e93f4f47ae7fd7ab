"""Run in a copy of the project with the toy source added (``test_new_source``): what Airflow sees
of the fourth source, then its three DAGs through ``dag.test()``. Prints one JSON line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

project = Path(sys.argv[1])
from airflow.dag_processing.dagbag import DagBag  # noqa: E402

from mlentory.pools import api_pools  # noqa: E402
from mlentory.provider_info import get_provider_info  # noqa: E402

bag = DagBag(dag_folder=str(project / "dags"))
extraction = bag.get_dag("toy_extraction")
found = {
    "import_errors": {str(k): v[-500:] for k, v in bag.import_errors.items()},
    "dag_ids": sorted(bag.dag_ids),
    "extraction_tasks": {t.task_id: t.pool for t in extraction.tasks},
    "pools": sorted(api_pools()),
    "connection_types": sorted(entry["connection-type"] for entry in get_provider_info()["connection-types"]),
    "states": {},
}
run_folder = None
for dag_id in ("toy_extraction", "toy_transformation", "toy_loading"):
    dag = bag.get_dag(dag_id)
    run = dag.test(run_conf={**dag.params.dump(), **({"run_folder": run_folder} if run_folder else {})})
    found["states"][dag_id] = run.state
    if dag_id == "toy_extraction":
        ti = next(ti for ti in run.get_task_instances() if ti.task_id == "toy_run_folder")
        run_folder = ti.xcom_pull(task_ids="toy_run_folder")
found["run_folder"] = run_folder
print(json.dumps(found))
