# The image every Airflow service of docker-compose.yaml runs: the official Airflow image of the
# version the lock pins, with the project's locked requirements installed over it (exactly the lock:
# no _PIP_ADDITIONAL_REQUIREMENTS, nothing resolved at start-up).
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

COPY --chown=airflow:0 requirements.txt /opt/mlentory/requirements.txt
RUN pip install --no-cache-dir -r /opt/mlentory/requirements.txt

# The DAGs, the library (on sys.path as Airflow's plugins folder), the schemas and the settings; the
# compose file mounts the working copy over them, so an image alone also runs.
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
COPY --chown=airflow:0 include /opt/airflow/include
COPY --chown=airflow:0 airflow.cfg /opt/airflow/airflow.cfg
# The project itself, editable over the plugins folder (no deps: the lock pins them): `python -m
# mlentory.pools` runs anywhere, and Airflow finds its connection types (the provider entry point).
COPY --chown=airflow:0 pyproject.toml /opt/airflow/pyproject.toml
RUN pip install --no-cache-dir --no-deps -e /opt/airflow
