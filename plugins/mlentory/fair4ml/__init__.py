"""The FAIR4ML data model in one place: JSON-LD context, deterministic IRIs, pydantic records."""
