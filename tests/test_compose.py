"""The production stack's files, checked offline (no Docker engine runs here): docker-compose.yaml
against the compose specification's own schema, every reference in it resolving, and the image
installing exactly the lock."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yaml"
# A variable compose interpolates (``$${X}`` is escaped: the container's shell reads it).
VARIABLE = re.compile(r"(?<!\$)\$\{(?P<name>[A-Z0-9_]+)(?P<rule>:?[-?][^}]*)?\}")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # the safe loader resolves the `<<` merges


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def test_compose_file_follows_the_compose_specification():
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_the_schema_check_catches_a_broken_file(tmp_path):
    """The check above can fail: a service with an unknown key does not validate."""
    broken = tmp_path / "docker-compose.yaml"
    broken.write_text(COMPOSE.read_text(encoding="utf-8").replace("  redis:\n    image:", "  redis:\n    imagee:", 1))
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(broken)],
                            capture_output=True, text=True)
    assert result.returncode != 0


def test_every_reference_in_the_compose_file_resolves():
    spec = compose()
    services, volumes = spec["services"], spec.get("volumes") or {}
    assert {"postgres", "redis", "neo4j", "elasticsearch", "airflow-init", "airflow-apiserver", "airflow-scheduler",
            "airflow-dag-processor", "airflow-triggerer", "airflow-worker"} <= set(services)
    used_volumes = set()
    for name, service in services.items():
        for dependency in service.get("depends_on") or {}:
            assert dependency in services, f"{name} depends on {dependency}, which is no service"
            assert dependency != name
        for mount in service.get("volumes") or []:
            source = mount.split(":")[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the project"
            else:
                assert source in volumes, f"{name} mounts the volume {source}, which is not declared"
                used_volumes.add(source)
        if name != "airflow-init":
            assert "healthcheck" in service, f"{name} has no health check"
        if "build" in service:
            assert (ROOT / service["build"] / "Dockerfile").is_file()
    assert used_volumes == set(volumes), "a declared volume no service uses"
    # Waiting on a health check needs one; waiting on completion needs a one-shot service.
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits for {dependency} to be healthy, which has no check"
            if condition["condition"] == "service_completed_successfully":
                assert dependency == "airflow-init"
    # The pools come from the sources' manifests, written by the project's own module, then imported.
    init = " ".join(services["airflow-init"]["command"])
    assert "python -m mlentory.pools /tmp/mlentory-pools.json" in init and "airflow pools import /tmp/mlentory-pools.json" in init


def test_every_variable_is_given_by_the_example_env_which_holds_no_secret():
    text = COMPOSE.read_text(encoding="utf-8")
    example = env_example()
    for match in VARIABLE.finditer(text):
        rule = match["rule"] or ""
        if not rule.startswith((":-", "-")):  # required, with no default: .env must give it
            assert match["name"] in example, f"{match['name']} is required by the compose file but not in .env.example"
    required = {m["name"] for m in VARIABLE.finditer(text) if (m["rule"] or "").startswith(":?")}
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY", "NEO4J_PASSWORD", "ELASTIC_PASSWORD",
            "AIRFLOW_CONN_NEO4J_DEFAULT", "AIRFLOW_CONN_ELASTICSEARCH_DEFAULT"} <= required
    for name, value in example.items():
        assert name in text, f".env.example gives {name}, which the compose file never uses"
        if "PASSWORD" in name or "SECRET" in name or "KEY" in name:
            assert value == "change-me", f"{name} in .env.example must be a placeholder"
    for name in ("AIRFLOW_CONN_NEO4J_DEFAULT", "AIRFLOW_CONN_ELASTICSEARCH_DEFAULT"):
        assert '"password": "change-me"' in example[name]
    # No literal secret in the compose file: every password comes from a variable.
    for service in compose()["services"].values():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            if any(word in key for word in ("PASSWORD", "SECRET", "FERNET", "CONN_")) and value:
                assert str(value).startswith("${") or "${" in str(value), f"{key} holds a literal value"


def test_airflow_services_run_celery_on_postgres_and_redis_with_auth():
    services = compose()["services"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker", "airflow-init"):
        environment = services[name]["environment"]
        assert environment["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert environment["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:${POSTGRES_PASSWORD")
        assert environment["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
        assert environment["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")
        assert "./dags:/opt/airflow/dags" in services[name]["volumes"]
        assert services[name]["build"] == "."
    assert services["airflow-worker"]["command"].startswith("celery worker")
    assert services["neo4j"]["image"].startswith("neo4j:5.26")  # the 5 LTS line
    assert "n10s" in services["neo4j"]["environment"]["NEO4J_PLUGINS"]
    assert services["elasticsearch"]["image"].split(":")[-1].startswith("8.")
    assert services["elasticsearch"]["environment"]["discovery.type"] == "single-node"


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split("==")
            pins[name.strip().lower()] = version.split()[0]
    return pins


def test_the_image_installs_exactly_the_lock():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    arguments = dict(re.findall(r"^ARG (\w+)=(\S+)$", dockerfile, flags=re.M))
    assert arguments["AIRFLOW_VERSION"] == lock_pins()["apache-airflow"], "the base image is another Airflow than the lock's"
    assert arguments["PYTHON_VERSION"] == "3.11"
    assert re.search(r"^FROM apache/airflow:\$\{AIRFLOW_VERSION\}-python\$\{PYTHON_VERSION\}$", dockerfile, flags=re.M)
    installs = re.findall(r"^RUN (.*pip install.*)$", dockerfile, flags=re.M)
    # The lock, then the project itself without dependencies (its provider entry point: the connection types).
    assert installs == ["pip install --no-cache-dir -r /opt/mlentory/requirements.txt", "pip install --no-cache-dir --no-deps -e /opt/airflow"], installs
    assert "COPY --chown=airflow:0 requirements.txt /opt/mlentory/requirements.txt" in dockerfile
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in COMPOSE.read_text(encoding="utf-8")
    # The lock holds what the compose stack runs: Celery, Postgres, the FAB auth manager, S3 storage.
    pins = lock_pins()
    for package in ("apache-airflow-providers-celery", "apache-airflow-providers-postgres", "apache-airflow-providers-fab",
                    "apache-airflow-providers-amazon", "apache-airflow-providers-neo4j", "apache-airflow-providers-elasticsearch",
                    "s3fs", "redis", "psycopg2-binary"):
        assert package in pins, f"{package} is not in the lock"
