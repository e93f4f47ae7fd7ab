"""Failures that a retry cannot mend: Airflow fails the task at once with the message, instead of
spending its retries and minutes of backoff on a missing run folder or an invalid param."""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowFailException


class PermanentFailure(AirflowFailException):
    """The same input fails the same way on every try."""


class InvalidInput(PermanentFailure, ValueError):
    """A param, an asset event or an input file names something a run may not use."""


class DataRootUnwritable(OSError):
    """The data root is full, read-only or not writable for the worker. Retried (space can be freed,
    a file system remounted); what was written before stays, and no stage is marked finished."""
