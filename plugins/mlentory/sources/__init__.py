"""The sources MLentory harvests, one package each holding only what is the source's own; this
module declares them for the DAG files (cheap to import: mappings load inside tasks)."""

from __future__ import annotations

from mlentory.pipeline.source import Source

HUGGINGFACE = Source(key="hf", name="huggingface", title="HuggingFace Hub", mapping_module="mlentory.sources.huggingface.mapping")

OPENML = Source(key="openml", name="openml", title="OpenML", mapping_module="mlentory.sources.openml.mapping")

AI4LIFE = Source(key="ai4life", name="ai4life", title="AI4Life / BioImage Model Zoo", mapping_module="mlentory.sources.bioimageio.mapping")

SOURCES = (HUGGINGFACE, OPENML, AI4LIFE)
