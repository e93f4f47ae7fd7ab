"""A new source plugs into the core without changing it: its package (``tests/toy``) declares a
Source and a mapping, two short DAG files call the core's builders, and the DAGs are found, chained
by the source's assets, mapped, and run into the same graph and index as every other source."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, clear, use_data_root

from mlentory.pipeline.extraction import MODELS_FILE, STAGE
from mlentory.pipeline.run_folder import RunFolder, write_jsonl
from mlentory.sources import SOURCES

TOY_DAGS = ROOT / "tests" / "toy"


def toy_dag_bag():  # noqa: ANN201 - airflow DagBag
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(TOY_DAGS))


def asset_events(prefix: str) -> dict[str, dict]:
    """The extra of the newest event of each asset whose name starts with ``prefix``."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(select(AssetModel.name, AssetEvent.extra).join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
                               .where(AssetModel.name.startswith(prefix)).order_by(AssetEvent.timestamp)).all()
    return {name: extra for name, extra in rows}


@pytest.mark.system  # a DAG run: the Airflow database
def test_the_toy_dags_are_found_and_chained_by_the_sources_assets():
    bag = toy_dag_bag()
    assert bag.import_errors == {}
    transformation, loading = bag.get_dag("toy_transformation"), bag.get_dag("toy_loading")
    assert "toy_raw_models" in str(transformation.timetable.asset_condition)
    assert "toy_models_normalized" in str(loading.timetable.asset_condition)
    assert {a.name for t in loading.tasks for a in t.outlets} == {"toy_models_graph", "toy_models_index", "toy_models_loaded"}
    mapped = {t.task_id for d in (transformation, loading) for t in d.tasks if getattr(t, "_is_mapped", False)}
    assert {"toy_properties", "toy_entity_linking", "toy_models_normalized", "toy_load_entities", "toy_load_models"} <= mapped
    assert "toy" not in {source.key for source in SOURCES}  # nothing in the core names it


def test_a_toy_harvest_runs_through_the_core_into_the_graph_and_the_index(stores, tmp_path, monkeypatch):
    # dag.test() runs DAGs of the configured bundles: the toy DAG files are a bundle of their own here.
    bundle = "airflow.dag_processing.bundles.local.LocalDagBundle"
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([
        {"name": "dags-folder", "classpath": bundle, "kwargs": {}},
        {"name": "toy", "classpath": bundle, "kwargs": {"path": str(TOY_DAGS), "refresh_interval": 0}},
    ]))
    clear(stores)
    data_root = use_data_root(tmp_path / "data")
    run = RunFolder.create(data_root, "toy")
    write_jsonl(run.file(STAGE, MODELS_FILE), [
        {"id": "m1", "version": "1", "title": "Toy classifier", "tags": ["vision"], "licence": "mit"},
        {"id": "m2", "version": "3", "title": "Toy regressor", "tags": ["tabular", "vision"], "licence": "apache-2.0"},
    ])
    run.mark_done(STAGE, {"models": 2})
    bag = toy_dag_bag()
    for dag_id in ("toy_transformation", "toy_loading"):
        dag = bag.get_dag(dag_id)
        result = dag.test(run_conf={**dag.params.dump(), "run_folder": run.name})
        assert result.state == "success", dag_id

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
    report = json.loads((run.path / "loading" / "report.json").read_text())
    assert (report["models_loaded"], report["models_failed"]) == (2, 0)
    # Each stage output is an asset of the source, and its events carry the run folder and counts.
    events = asset_events("toy_")
    assert events["toy_models_normalized"]["models"] == 2 and events["toy_models_index"]["documents"] == 2
    assert events["toy_models_graph"] == {"run_folder": str(run.path.resolve()), "models": 2,
                                          "entities": events["toy_models_loaded"]["entities"]}
    assert events["toy_models_graph"]["entities"]["licenses"] == 2
    assert json.loads((data_root / "toy" / "state" / "loaded_revisions.json").read_text()) == {"m1": "1", "m2": "3"}
