"""How a run's partitioned work is grouped into tasks (a light module: planning tasks import it
without the stores' clients)."""

from __future__ import annotations

import math

from mlentory.settings import GRAPH_NODE_PARTITIONS, MODELS_PER_PARTITION_TASK


def task_partitions(models: int, partitions: int = GRAPH_NODE_PARTITIONS) -> list[list[int]]:
    """The partitions each of a run's tasks over ``partitions`` takes (the lookups of a partitioned
    kind, the linking and merge tasks, the node tasks): one task per ``MODELS_PER_PARTITION_TASK``
    models, at most one per partition."""
    tasks = min(partitions, max(1, math.ceil(models / MODELS_PER_PARTITION_TASK)))
    return [list(range(task, partitions, tasks)) for task in range(tasks)]
