"""Airflow hook for the HuggingFace Hub: endpoint and token come from the ``huggingface_default`` connection."""

from __future__ import annotations

from functools import cached_property

from huggingface_hub import HfApi

from mlentory.connections import ConnectionHook, base_url
from mlentory.pipeline.budget import Allowance, RequestBudget, shared_budget
from mlentory.sources.huggingface import API_REQUESTS, RESOLVER_REQUESTS, SOURCE, WINDOW_SECONDS
from mlentory.sources.huggingface.hub import API, RESOLVER, HubClient, hub_origins, use_http_timeouts


def request_budgets(extra: dict) -> dict[str, RequestBudget]:
    """The Hub's budgets, shared by every task and worker (``budget.shared_budget``): a free token's
    limits unless the connection's extra says otherwise (``api_requests``, ``resolver_requests``,
    ``window_seconds``; a paid plan allows more)."""
    window = float(extra.get("window_seconds", WINDOW_SECONDS))
    return {API: shared_budget(Allowance("huggingface_api", int(extra.get("api_requests", API_REQUESTS)), window)),
            RESOLVER: shared_budget(Allowance("huggingface_resolver", int(extra.get("resolver_requests", RESOLVER_REQUESTS)), window))}


class HuggingFaceHubHook(ConnectionHook, connection=SOURCE.connection):
    """Host (optional) is the Hub endpoint; password (optional) is the access token; extra
    (optional) the request budgets (``request_budgets``).

    Without the connection the public Hub is used anonymously (or ``HF_ENDPOINT`` when set, as
    huggingface_hub itself honours it).
    """

    @cached_property
    def client(self) -> HubClient:
        conn = self.connection()
        budgets = request_budgets(conn.extra_dejson if conn is not None else {})
        api = HfApi() if conn is None else HfApi(endpoint=base_url(conn), token=conn.password or False)
        use_http_timeouts(budgets=budgets, endpoint=api.endpoint, origins=hub_origins(api.endpoint, self.conn_id))
        return HubClient(api, budgets[API], budgets[RESOLVER])

    def get_conn(self) -> HubClient:
        return self.client
