"""Every DAG imports without errors or deprecation warnings, follows house rules, and the assets chain."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

import pytest
from pipeline import ROOT, dag_bag

pytestmark = pytest.mark.system  # the Airflow database, servers or a whole stack: not in the fast lane

DAG_IDS = ["hf_extraction", "hf_transformation", "hf_loading"]
ALL_DAG_IDS = [*DAG_IDS, "openml_extraction", "openml_transformation", "openml_loading"]


def test_no_import_errors():
    assert dag_bag().import_errors == {}
    assert set(ALL_DAG_IDS) <= set(dag_bag().dag_ids)


@pytest.mark.parametrize("dag_file", sorted(p.name for p in (ROOT / "dags").glob("*.py")))
def test_dag_file_imports_without_deprecation_warnings(dag_file: str):
    # A fresh interpreter so that warnings raised at first import are seen (and are errors).
    code = (
        "import runpy, sys, warnings; sys.path[:0] = [sys.argv[1], sys.argv[2]];"
        "warnings.simplefilter('error', DeprecationWarning); warnings.simplefilter('error', PendingDeprecationWarning);"
        "import airflow.sdk; runpy.run_path(sys.argv[3])"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code, str(ROOT / "plugins"), str(ROOT / "dags"), str(ROOT / "dags" / dag_file)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]


# Every DAG file defines the DAG of its name (read from the folder, not the DagBag: collecting must
# stay cheap for the fast lane, which never runs these).
EVERY_DAG_ID = sorted(p.stem for p in (ROOT / "dags").glob("*.py"))
STAGES = ("extraction", "transformation", "loading")


def test_every_dag_file_defines_the_dag_of_its_name():
    assert set(dag_bag().dag_ids) == set(EVERY_DAG_ID)


@pytest.mark.parametrize("dag_id", EVERY_DAG_ID)
def test_dag_conventions(dag_id: str):
    from mlentory.sources import SOURCES

    dag = dag_bag().get_dag(dag_id)
    key, _, stage = dag_id.rpartition("_")
    if stage in STAGES:  # a source's stage: tagged with the source's name and the stage
        assert {"mlentory", {s.key: s.name for s in SOURCES}[key], stage} <= set(dag.tags)
    else:
        assert "mlentory" in dag.tags
    assert dag.catchup is False
    assert dag.max_active_runs == 1  # two runs of one stage at once would race on the same state
    assert dag.doc_md
    for task in dag.tasks:
        assert task.retries >= 1, f"{task.task_id} has no retries"
    for name, param in dag.params.items():
        assert param.description, f"param {name} of {dag_id} has no description"
        assert "type" in param.schema, f"param {name} of {dag_id} is untyped"
        # The trigger form requires every param whose type does not admit null: an optional param
        # without a real default must allow null, or users cannot trigger without filling it in.
        if param.value in (None, "", []):
            assert "null" in param.schema["type"], f"optional param {name} of {dag_id} must allow null"
    dag.params.validate()  # the defaults alone make a valid run


def test_assets_chain_the_three_stages():
    extraction, transformation, loading = (dag_bag().get_dag(d) for d in DAG_IDS)
    produced = {a.name for t in extraction.tasks for a in t.outlets}
    normalized = {a.name for t in transformation.tasks for a in t.outlets}
    loaded = {a.name for t in loading.tasks for a in t.outlets}
    kinds = ("datasets", "articles", "keywords", "licenses", "languages", "tasks", "organisations")
    assert produced == {"hf_raw_models", *(f"hf_{kind}" for kind in kinds)}
    assert normalized == {"hf_models_normalized"} and loaded == {"hf_models_graph", "hf_models_index", "hf_models_loaded"}
    # Finer lineage in the Assets view: grouped per source and stage.
    groups = {a.name: a.group for d in (extraction, transformation, loading) for t in d.tasks for a in t.outlets}
    assert set(groups.values()) == {"hf", "hf_transformation", "hf_loading"}
    assert "hf_raw_models" in str(transformation.timetable.asset_condition)
    assert "hf_models_normalized" in str(loading.timetable.asset_condition)


def test_required_task_ids_exist():
    tasks = {t.task_id for d in DAG_IDS for t in dag_bag().get_dag(d).tasks}
    assert {
        "hf_run_folder", "hf_raw_models_latest", "hf_raw_models_from_file", "hf_raw_models", "hf_add_ancestor_models",
        "hf_model_card_chunks", "hf_model_cards", "hf_model_cards_done", "hf_datasets", "hf_articles", "hf_keywords", "hf_licenses", "hf_languages", "hf_tasks",
        "hf_organisations", "hf_properties", "hf_entity_linking", "hf_models_normalized", "hf_rdf_store_ready",
        "hf_load_entities", "hf_load_models", "hf_index_models_elasticsearch", "hf_graph_nodes", "hf_normalize_chunk",
    } <= tasks


def test_the_graph_nodes_are_made_in_mapped_tasks_before_the_parallel_loads():
    loading = dag_bag().get_dag("hf_loading")
    nodes = loading.get_task("hf_graph_nodes")
    assert getattr(nodes, "_is_mapped", False)
    assert {"hf_graph_node_tasks", "hf_rdf_store_ready"} <= nodes.upstream_task_ids  # planned, after the schema
    assert "hf_load_entities" in nodes.downstream_task_ids
    # The history recorded in the same partitions, after the model loads, before the run's report.
    histories = loading.get_task("hf_history")
    assert getattr(histories, "_is_mapped", False)
    assert {"hf_graph_node_tasks", "hf_load_models"} <= histories.upstream_task_ids and histories.downstream_task_ids == {"hf_licence_findings"}
    # The licence findings in the same partitions, after the history (they read the run's change
    # feed) and the index (they set a field of its documents), before the freshness and the report.
    findings = loading.get_task("hf_licence_findings")
    assert getattr(findings, "_is_mapped", False)
    assert {"hf_graph_node_tasks", "hf_history", "hf_index_models_elasticsearch"} <= findings.upstream_task_ids
    assert findings.downstream_task_ids == {"hf_freshness"}


def test_the_transformation_fans_out_per_chunk_and_per_partition():
    transformation = dag_bag().get_dag("hf_transformation")
    mapped = {t.task_id for t in transformation.tasks if getattr(t, "_is_mapped", False)}
    assert {"hf_properties", "hf_entity_linking", "hf_normalize_chunk", "hf_entity_merge"} <= mapped
    normalize = transformation.get_task("hf_normalize_chunk")
    assert normalize.upstream_task_ids == {"hf_entity_linking", "hf_property_chunks"}  # after the linking, over the chunks planned
    assert normalize.downstream_task_ids == {"hf_models_normalized"}
    # The linking tasks over the planned partitions of the mentions' keys, after every chunk's property
    # groups; the records merged beside the normalization, both before the stage's end.
    linking = transformation.get_task("hf_entity_linking")
    assert linking.upstream_task_ids == {"hf_link_tasks", "hf_properties"}
    assert transformation.get_task("hf_link_tasks").upstream_task_ids == {"hf_property_chunks", "hf_transformation_run_folders"}
    merge = transformation.get_task("hf_entity_merge")
    assert merge.upstream_task_ids == {"hf_entity_linking", "hf_link_tasks"} and merge.downstream_task_ids == {"hf_models_normalized"}


def test_the_cards_are_read_in_mapped_tasks_in_the_hub_pool_between_a_plan_and_an_end():
    extraction = dag_bag().get_dag("hf_extraction")
    cards = extraction.get_task("hf_model_cards")
    assert getattr(cards, "_is_mapped", False) and cards.pool == "huggingface_api"
    assert cards.upstream_task_ids == {"hf_model_card_chunks"}
    assert cards.downstream_task_ids == {"hf_model_cards_done"}
    assert "hf_record_chunks" in extraction.get_task("hf_model_cards_done").downstream_task_ids  # the records joined with their cards


def test_the_listing_is_paged_by_one_task_and_parsed_in_mapped_tasks_before_the_merge():
    extraction = dag_bag().get_dag("hf_extraction")
    parsed = extraction.get_task("hf_listed_models")
    assert getattr(parsed, "_is_mapped", False) and parsed.upstream_task_ids == {"hf_raw_models_latest"}
    assert parsed.downstream_task_ids == {"hf_raw_models"}
    assert "hf_raw_models_latest" not in extraction.get_task("hf_raw_models").upstream_task_ids


def test_the_records_are_joined_into_chunks_once_and_their_mentions_found_per_chunk():
    extraction = dag_bag().get_dag("hf_extraction")
    mentions = extraction.get_task("hf_mentions")
    assert getattr(mentions, "_is_mapped", False) and mentions.upstream_task_ids == {"hf_record_chunks"}
    assert {"hf_datasets", "hf_lookup_tasks", "hf_licenses"} <= mentions.downstream_task_ids
    # The accounts, mentioned in proportion to the models, are looked up by mapped tasks over
    # partitions of their keys; the other kinds by one task each.
    organisations = extraction.get_task("hf_organisations")
    assert getattr(organisations, "_is_mapped", False) and organisations.upstream_task_ids == {"hf_lookup_tasks"}
    assert not getattr(extraction.get_task("hf_datasets"), "_is_mapped", False)
    assert "hf_raw_models_ready" in organisations.downstream_task_ids


def test_ruff_airflow_rules_pass():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "dags", "plugins", "tests"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_plugin_manager_imports_nothing_from_the_library():
    """Airflow imports every .py file under plugins/ as a plugin under its bare name; the library
    holds no plugin, and a second copy of each module (``stage``, ``state``) would be loaded."""
    from airflow._shared.module_loading import find_path_from_directory

    files = find_path_from_directory(str(ROOT / "plugins"), ".airflowignore", "glob")
    assert [f for f in files if f.endswith(".py")] == []


HEAVY_MODULES = ("neo4j", "elasticsearch", "rdflib", "arxiv", "huggingface_hub", "license_expression", "langcodes", "openml")


MINIMAL_DAG = """
from airflow.sdk import dag, task


@dag(schedule=None)
def minimal():
    @task
    def one() -> int:
        return 1

    one()


minimal()
"""

# Parse each file as the DAG processor does: in a child forked from a process that has imported
# Airflow, its CPU time (not wall time, which a loaded machine stretches) measured in the child.
PARSE_COST = """
import json, os, runpy, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag  # noqa: F401 - what the processor has loaded
costs = {}
for path in sys.argv[3:]:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        started = time.process_time()
        runpy.run_path(path)
        result = {"cpu": time.process_time() - started, "modules": sorted(sys.modules)}
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        costs[os.path.basename(path)] = json.loads(answer.read() or "{}")
    os.waitpid(child, 0)
print(json.dumps(costs))
"""
PROJECT_SHARE_LIMIT_S = 0.3


def test_parsing_a_dag_file_costs_little_beyond_airflow(tmp_path):
    """The DAG processor parses every file every 30 s: store clients, parsers and source clients are
    imported inside tasks, never at parse time. Each file's CPU in a forked child, less a minimal
    DAG's, is the project's own share: at most 0.3 s (the median of three parses)."""
    minimal = tmp_path / "minimal_dag.py"
    minimal.write_text(MINIMAL_DAG)
    files = [str(path) for path in sorted((ROOT / "dags").glob("*.py"))]
    runs = []
    for _ in range(3):
        result = subprocess.run([sys.executable, "-c", PARSE_COST, str(ROOT / "plugins"), str(ROOT / "dags"), str(minimal), *files],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    cpu = {name: statistics.median(run[name]["cpu"] for run in runs) for name in runs[0]}
    baseline = cpu.pop("minimal_dag.py")
    for name in cpu:
        assert set(runs[0][name]) == {"cpu", "modules"}, f"{name} did not parse"
        assert [m for m in HEAVY_MODULES if m in runs[0][name]["modules"]] == [], name
    shares = {name: round(cost - baseline, 3) for name, cost in cpu.items()}
    assert max(shares.values()) <= PROJECT_SHARE_LIMIT_S, (shares, baseline)


def test_openml_assets_chain_its_three_stages():
    extraction, transformation, loading = (dag_bag().get_dag(f"openml_{stage}") for stage in ("extraction", "transformation", "loading"))
    produced = {a.name for t in extraction.tasks for a in t.outlets}
    assert produced == {"openml_raw_models", "openml_tasks", "openml_datasets", "openml_organisations", "openml_languages"}
    assert "openml_raw_models" in str(transformation.timetable.asset_condition)
    assert "openml_models_normalized" in str(loading.timetable.asset_condition)


def test_tasks_that_call_an_api_run_in_its_pool():
    from mlentory.pools import api_pools

    bag = dag_bag()
    pools = {t.task_id: t.pool for dag_id in bag.dag_ids for t in bag.get_dag(dag_id).tasks}
    assert pools["hf_raw_models_latest"] == pools["hf_model_cards"] == pools["hf_organisations"] == pools["hf_datasets"] == "huggingface_api"
    assert pools["hf_articles"] == pools["ai4life_articles"] == "arxiv_api"
    assert pools["openml_raw_flows"] == pools["openml_evaluations"] == pools["openml_tasks"] == "openml_api"
    assert pools["ai4life_raw_resources"] == "bioimageio_api"
    assert pools["hf_properties"] == pools["hf_load_models"] == "default_pool"  # no API: no API's pool
    assert set(pools.values()) <= {*api_pools(), "default_pool"}


def test_extractions_run_on_a_default_schedule_that_the_environment_changes():
    """Each source's extraction has a default schedule (its transformation and loading follow through
    the assets); ``MLENTORY_SCHEDULE_<KEY>`` changes it, ``none`` leaves it to triggers; every task
    goes to the source's Celery queue, ``MLENTORY_QUEUE_<KEY>``."""
    code = ("import json, sys; sys.path[:0] = [sys.argv[1]];"
            "from airflow.dag_processing.dagbag import DagBag;"
            "bag = DagBag(dag_folder=sys.argv[2]);"
            "print(json.dumps({d: [s if isinstance(s := bag.get_dag(d).schedule, str | None) else 'assets', sorted({t.queue for t in bag.get_dag(d).tasks})]"
            " for d in bag.dag_ids}))")

    def parsed(**environment: str) -> dict:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("MLENTORY_SCHEDULE_", "MLENTORY_QUEUE_"))}
        result = subprocess.run([sys.executable, "-c", code, str(ROOT / "plugins"), str(ROOT / "dags")], capture_output=True, text=True,
                                env={**env, **environment}, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    defaults = parsed()
    assert defaults["hf_extraction"][0] == "@daily"
    assert defaults["openml_extraction"][0] == "@weekly"
    assert defaults["ai4life_extraction"][0] == "@daily"
    assert defaults["hf_transformation"][0] == "assets" and defaults["openml_loading"][0] == "assets"
    assert defaults["mlentory_housekeeping"][0] == "@daily"
    assert {queue for _, queues in defaults.values() for queue in queues} == {"default"}
    changed = parsed(MLENTORY_SCHEDULE_HF="0 3 * * *", MLENTORY_SCHEDULE_OPENML="none", MLENTORY_QUEUE_HF="huggingface")
    assert changed["hf_extraction"][0] == "0 3 * * *"
    assert changed["openml_extraction"][0] is None
    assert changed["ai4life_extraction"][0] == "@daily"
    assert changed["hf_loading"][1] == ["huggingface"] and changed["openml_loading"][1] == ["default"]


def bounded(schema: dict) -> list[str]:
    """What a param's JSON schema leaves unbounded: a number without a maximum, an array without
    maxItems, a string without maxLength, pattern or enum (items included)."""
    types = schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]
    missing = []
    if {"integer", "number"} & set(types) and "maximum" not in schema:
        missing.append("maximum")
    if "array" in types:
        missing += [] if "maxItems" in schema else ["maxItems"]
        missing += [f"items: {m}" for m in bounded(schema.get("items") or {})]
    if "string" in types and not {"maxLength", "pattern", "enum"} & schema.keys():
        missing.append("maxLength")
    return missing


def test_every_param_of_every_dag_is_bounded():
    """A value beyond any sane size is refused when the run is triggered (a chunk_size of 10**30
    was accepted, then failed every try with empty logs)."""
    from airflow.sdk.exceptions import ParamValidationError

    huge = {"integer": 10**30, "number": 1e300, "string": "x" * 100_000, "array": ["x"] * 100_000}
    assert len(dag_bag().dag_ids) >= 10
    for dag_id, name, param in ((dag_id, name, param) for dag_id, dag in dag_bag().dags.items() for name, param in dag.params.items()):
        assert bounded(param.schema) == [], f"param {name} of {dag_id} is unbounded: {bounded(param.schema)}"
        kinds = param.schema["type"] if isinstance(param.schema["type"], list) else [param.schema["type"]]
        for kind in set(kinds) & huge.keys():
            with pytest.raises(ParamValidationError):
                param.resolve(value=huge[kind])


def test_the_params_page_is_what_the_dags_declare():
    """docs/params.md is written from the DAGs (scripts/params_doc.py): a param added, removed or
    redescribed without rewriting the page fails here."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("params_doc", ROOT / "scripts" / "params_doc.py")
    params_doc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(params_doc)
    page = (ROOT / "docs" / "params.md").read_text()
    assert page == params_doc.render(dag_bag().dags), "docs/params.md is out of date: run .venv/bin/python scripts/params_doc.py"
    for dag_id in dag_bag().dag_ids:
        assert f"## `{dag_id}`" in page
