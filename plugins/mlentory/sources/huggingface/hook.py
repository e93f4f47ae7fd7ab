"""Airflow hook for the HuggingFace Hub: endpoint and token come from the ``huggingface_default`` connection."""

from __future__ import annotations

from functools import cached_property

from airflow.sdk import BaseHook
from huggingface_hub import HfApi

from mlentory.connections import base_url, optional_connection
from mlentory.settings import HF_CONN_ID
from mlentory.sources.huggingface.hub import HubClient, use_http_timeouts


class HuggingFaceHubHook(BaseHook):
    """Host (optional) is the Hub endpoint; password (optional) is the access token.

    Without the connection the public Hub is used anonymously (or ``HF_ENDPOINT`` when set, as
    huggingface_hub itself honours it).
    """

    conn_name_attr = "hf_conn_id"
    default_conn_name = HF_CONN_ID
    conn_type = "generic"
    hook_name = "HuggingFace Hub"

    def __init__(self, hf_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.hf_conn_id = hf_conn_id

    @cached_property
    def client(self) -> HubClient:
        use_http_timeouts()
        conn = optional_connection(self.hf_conn_id)
        if conn is None:
            return HubClient(HfApi())
        return HubClient(HfApi(endpoint=base_url(conn), token=conn.password or False))

    def get_conn(self) -> HubClient:
        return self.client
