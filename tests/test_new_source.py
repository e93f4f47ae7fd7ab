"""A fourth source is its package, its three DAG files and its line in the registry: nothing else of
the project changes. The test adds the toy source (``tests/toy``) to a copy of the project, checks
that only those differ, and runs its extraction, transformation and loading through Airflow into
the same graph and index as every other source."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, clear, use_data_root

from mlentory.pipeline.run_folder import RunFolder, write_jsonl
from mlentory.pipeline.state import LoadedRevisions
from mlentory.sources import SOURCES

TOY = ROOT / "tests" / "toy"
COPIED = ("plugins", "dags", "include")
REGISTRY = Path("plugins/mlentory/sources/__init__.py")


def project_with_a_fourth_source(target: Path) -> Path:
    for folder in COPIED:
        shutil.copytree(ROOT / folder, target / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(TOY / "package", target / "plugins" / "mlentory" / "sources" / "toy", ignore=shutil.ignore_patterns("__pycache__"))
    for dag_file in (TOY / "dags").glob("*.py"):
        shutil.copy(dag_file, target / "dags" / dag_file.name)
    registry = (target / REGISTRY).read_text()
    registry = registry.replace("from mlentory.sources.openml import SOURCE as OPENML\n",
                                "from mlentory.sources.openml import SOURCE as OPENML\nfrom mlentory.sources.toy import SOURCE as TOY\n")
    registry = registry.replace("(HUGGINGFACE, OPENML, AI4LIFE)", "(HUGGINGFACE, OPENML, AI4LIFE, TOY)")
    (target / REGISTRY).write_text(registry)
    return target


def files(root: Path) -> dict[Path, str]:
    return {path.relative_to(root): path.read_text() for folder in COPIED for path in (root / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".json", ".jsonld", ".cfg", ".yaml")}


def test_a_fourth_source_changes_nothing_outside_its_package_its_dag_files_and_its_registry_line(tmp_path):
    project = project_with_a_fourth_source(tmp_path / "project")
    before, after = files(ROOT), files(project)
    changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    toy_files = {path for path in changed if path.parts[:4] == ("plugins", "mlentory", "sources", "toy")
                 or (path.parts[0] == "dags" and path.name.startswith("toy_"))}
    assert changed - toy_files == {REGISTRY}
    diff = [line for line in difflib.unified_diff(before[REGISTRY].splitlines(), after[REGISTRY].splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    added, removed = [line[1:] for line in diff if line[0] == "+"], [line[1:] for line in diff if line[0] == "-"]
    assert added == ["from mlentory.sources.toy import SOURCE as TOY", "SOURCES: tuple[Source, ...] = (HUGGINGFACE, OPENML, AI4LIFE, TOY)"]
    assert removed == ["SOURCES: tuple[Source, ...] = (HUGGINGFACE, OPENML, AI4LIFE)"]
    assert len(toy_files) == 7  # __init__ (manifest), hook, extraction, mapping; three DAG files
    assert "toy" not in {source.key for source in SOURCES}  # the project itself knows no toy


@pytest.mark.system  # three DAG runs in a copy of the project: the Airflow database, the stand-in stores
def test_the_fourth_source_runs_its_three_dags_into_the_graph_and_the_index(stores, tmp_path):
    clear(stores)
    project = project_with_a_fourth_source(tmp_path / "project")
    data_root = use_data_root(tmp_path / "data")
    write_jsonl(data_root / "toy" / "inputs" / "catalogue.jsonl", [
        {"id": "m1", "version": "1", "title": "Toy classifier", "tags": ["vision"], "licence": "mit"},
        {"id": "m2", "version": "3", "title": "Toy regressor", "tags": ["tabular", "vision"], "licence": "apache-2.0"},
    ])
    bundle = "airflow.dag_processing.bundles.local.LocalDagBundle"
    environment = {**os.environ, "PYTHONPATH": str(project / "plugins"), "AIRFLOW__CORE__DAGS_FOLDER": str(project / "dags"),
                   "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
                       [{"name": "dags-folder", "classpath": bundle, "kwargs": {"path": str(project / "dags"), "refresh_interval": 0}}])}
    result = subprocess.run([sys.executable, str(TOY / "run_chain.py"), str(project)], capture_output=True, text=True, timeout=600,
                            env=environment, cwd=project)
    assert result.returncode == 0, result.stderr[-4000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])

    assert found["import_errors"] == {}
    assert {"toy_extraction", "toy_transformation", "toy_loading", "hf_extraction"} <= set(found["dag_ids"])
    # The shared tail, from the manifest: mentions, one identification task per entity kind in its pool, the end.
    assert found["extraction_tasks"] == {"toy_run_folder": "default_pool", "toy_raw_catalogue": "toy_api", "toy_raw_models": "default_pool",
                                         "toy_record_chunks": "default_pool", "toy_mentions": "default_pool", "toy_licenses": "default_pool", "toy_keywords": "toy_api",
                                         "toy_raw_models_ready": "default_pool"}
    assert "toy_api" in found["pools"] and "toy" in found["connection_types"]
    assert found["states"] == {"toy_extraction": "success", "toy_transformation": "success", "toy_loading": "success"}

    with stores.driver() as driver, driver.session() as session:
        rows = session.run("MATCH (m:fair4ml__MLModel)-[:schema__license]->(l) WHERE m.schema__url STARTS WITH 'https://toy.example/' "
                           "RETURN m.schema__name AS name, m.mlentory__source AS source, l.uri AS licence ORDER BY name").data()
        vision = session.run("MATCH (m:fair4ml__MLModel)-[:schema__keywords]->(k {schema__name: 'vision'}) RETURN count(m) AS c").single()["c"]
    assert rows == [{"name": "Toy classifier", "source": "toy", "licence": "https://spdx.org/licenses/MIT"},
                    {"name": "Toy regressor", "source": "toy", "licence": "https://spdx.org/licenses/Apache-2.0"}]
    assert vision == 2
    es = stores.es()
    es.indices.refresh(index="mlentory_models")
    hits = es.search(index="mlentory_models", query={"term": {"source": "toy"}})["hits"]["hits"]
    assert sorted(h["_source"]["name"] for h in hits) == ["Toy classifier", "Toy regressor"]
    run = Path(found["run_folder"])
    report = json.loads((run / "loading" / "report.json").read_text())
    assert (report["models_loaded"], report["models_failed"]) == (2, 0)
    assert LoadedRevisions(RunFolder(run)).load() == {"m1": "1", "m2": "3"}
