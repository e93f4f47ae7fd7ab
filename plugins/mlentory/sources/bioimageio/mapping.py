"""The BioImage Model Zoo's mapping onto the shared transformation: its records (a model resource
with its validated description), property groups, linkers, model IRIs, and the collection's
datasets as records of their own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlentory.fair4ml import iris
from mlentory.pipeline.extraction import MODELS_FILE, STAGE
from mlentory.pipeline.run_folder import RunFolder, read_jsonl
from mlentory.pipeline.source import SourceMapping
from mlentory.sources.bioimageio.extraction import resource_revision
from mlentory.sources.bioimageio.linking import LINKERS, collection_datasets
from mlentory.sources.bioimageio.properties import GROUPS_MENTIONING, PROPERTY_GROUPS


def records(run: RunFolder) -> Iterator[dict[str, Any]]:
    for resource in read_jsonl(run.file(STAGE, MODELS_FILE)):
        yield {"id": resource["id"], "revision": resource_revision(resource), "resource": resource}


MAPPING = SourceMapping(
    property_groups=PROPERTY_GROUPS,
    groups_mentioning=GROUPS_MENTIONING,
    records=records,
    record_arguments=lambda row: (row["resource"],),
    model_iri=iris.bioimageio_resource_iri,
    linkers=LINKERS,
    entities=collection_datasets,
)
