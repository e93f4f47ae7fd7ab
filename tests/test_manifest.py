"""Each source's manifest is the one place its schedule, connection, pools and entity kinds are
declared; what Airflow needs from them (pools, connection types with their forms) is derived."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

from mlentory.pipeline.source import EntityKind, Source, SourceExtraction, SourceMapping
from mlentory.pools import ApiPool, api_pools
from mlentory.provider_info import get_provider_info
from mlentory.sources import SOURCES

PLUGINS = str(ROOT / "plugins")


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.key)
def test_a_manifest_declares_what_its_dags_and_tasks_use(source: Source):
    assert isinstance(source.mapping, SourceMapping)
    assert isinstance(source.extraction, SourceExtraction)  # the extraction implements the contract
    # The extraction identifies only kinds the mapping mentions (a kind it does not identify, such as
    # OpenML's keywords, links by its name alone).
    assert {kind.name for kind in source.entity_kinds} <= set(source.mapping.groups_mentioning)
    assert {kind.pool for kind in source.entity_kinds if kind.pool} <= set(source.pools)
    assert source.connection is not None and source.connection.conn_id.endswith("_default")
    hook = _import(source.connection.hook_class_name)
    assert (hook.conn_type, hook.hook_name, hook.default_conn_name) == (source.connection.conn_type, source.connection.hook_name,
                                                                          source.connection.conn_id)


def _import(dotted: str):  # noqa: ANN202 - the named class
    import importlib

    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_the_pools_are_those_the_manifests_name_and_the_module_writes_them_for_airflow(tmp_path):
    assert {name: pool.slots for name, pool in api_pools().items()} == {"huggingface_api": 4, "arxiv_api": 1, "openml_api": 2,
                                                                         "bioimageio_api": 2}
    target = tmp_path / "pools.json"
    subprocess.run([sys.executable, "-m", "mlentory.pools", str(target)], check=True, timeout=60, env={"PYTHONPATH": PLUGINS})
    written = json.loads(target.read_text())
    assert written["arxiv_api"] == {"slots": 1, "description": api_pools()["arxiv_api"].description, "include_deferred": False}
    assert set(written) == set(api_pools())


def test_two_sources_declaring_one_pool_differently_are_refused(monkeypatch):
    import mlentory.sources

    other = Source(key="other", name="other", title="Other", package="mlentory.sources.huggingface",
                   pools=(ApiPool("huggingface_api", 99, "another size"),), entity_kinds=(EntityKind("datasets"),))
    monkeypatch.setattr(mlentory.sources, "SOURCES", (*SOURCES, other))
    with pytest.raises(ValueError, match="huggingface_api is declared twice"):
        api_pools()


def test_a_package_that_breaks_a_contract_is_refused_when_first_used():
    broken = Source(key="broken", name="broken", title="Broken", package="mlentory.fair4ml")  # has neither module
    with pytest.raises(ModuleNotFoundError):
        _ = broken.mapping
    no_contract = Source(key="other", name="other", title="Other", package="mlentory.pipeline")  # pipeline.extraction: the scaffolding
    with pytest.raises(TypeError, match="does not implement SourceExtraction"):
        _ = no_contract.extraction


def test_the_manifests_import_no_airflow():
    """Airflow reads the provider info (the connection types) while it loads its own configuration:
    the manifests must import nothing of Airflow, nor of a source's clients."""
    code = "import sys, json; import mlentory.provider_info as p, mlentory.sources; p.get_provider_info(); " \
           "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'huggingface_hub', 'openml', 'bioimageio'))))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={"PYTHONPATH": PLUGINS}, check=True)
    assert json.loads(result.stdout) == []


def test_the_connection_types_and_their_forms_reach_airflow():
    info = get_provider_info()
    from pathlib import Path

    import airflow
    import jsonschema

    # The schema Airflow validates every provider's info against when it discovers them.
    jsonschema.validate(info, json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text()))
    types = {entry["connection-type"]: entry for entry in info["connection-types"]}
    assert set(types) == {"huggingface", "openml", "bioimageio", "arxiv"}
    assert types["huggingface"]["conn-fields"]["api_requests"]["schema"]["default"] == 1_000


@pytest.mark.system  # Airflow's provider manager imports every provider's hooks: 12 s, too slow for the fast lane
def test_airflow_builds_the_connection_forms_from_the_provider_info():
    # What the UI's connection form is built from, as Airflow's own provider manager reads it (the
    # project is installed with its entry point, as the README's setup and the image install it).
    code = ("import json; from airflow.providers_manager import ProvidersManager as P; m = P(); m.initialize_providers_hooks();"
            "print(json.dumps({'widgets': sorted(k for k in m.connection_form_widgets if k.split('__')[1] in "
            "('huggingface', 'openml', 'bioimageio', 'arxiv')), 'relabel': m.field_behaviours['huggingface']['relabeling']}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=True)
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert "extra__huggingface__resolver_requests" in seen["widgets"] and "extra__bioimageio__index_url" in seen["widgets"]
    assert seen["relabel"] == {"host": "Hub endpoint", "password": "Access token"}
