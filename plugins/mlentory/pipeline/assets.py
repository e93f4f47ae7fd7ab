"""Airflow Assets linking each source's three DAGs, declared once (groups as in the Dagster MLentory)."""

from __future__ import annotations

from airflow.sdk import Asset

HF_RAW_MODELS = Asset(name="hf_raw_models", uri="mlentory://hf/raw_models", group="hf")
HF_MODELS_NORMALIZED = Asset(name="hf_models_normalized", uri="mlentory://hf/models_normalized", group="hf_transformation")
HF_MODELS_LOADED = Asset(name="hf_models_loaded", uri="mlentory://hf/models_loaded", group="hf_loading")
