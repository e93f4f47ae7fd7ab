"""Airflow hook for the BioImage Model Zoo: the ``bioimageio_default`` connection's host (optional)
is a mirror answering for the collection's servers; its extra ``index_url`` the collection's index
(the published ``index.json``, the default, or the artifact manager's live listing, ``client.LIVE_INDEX``),
``page_size`` the live listing's page size, ``allowed_origins`` more servers of the collection its
descriptions may be fetched from (a list, or text separated by commas: ``https://host:port``; the
index's, the mirror's and the zoo's own servers are allowed without it), and ``requests`` /
``window_seconds`` the request budget every task shares (default 600 per 60 s)."""

from __future__ import annotations

from functools import cached_property

from mlentory.connections import ConnectionHook, base_url
from mlentory.outbound import listed
from mlentory.pipeline.budget import Allowance, shared_budget
from mlentory.sources.bioimageio import REQUESTS, SOURCE, WINDOW_SECONDS
from mlentory.sources.bioimageio.client import PUBLISHED_INDEX, BioImageIOClient, BioImageIOSettings


class BioImageIOHook(ConnectionHook, connection=SOURCE.connection):
    @cached_property
    def client(self) -> BioImageIOClient:
        conn = self.connection()
        extra = conn.extra_dejson if conn else {}
        budget = shared_budget(Allowance("bioimageio", int(extra.get("requests", REQUESTS)),
                                         float(extra.get("window_seconds", WINDOW_SECONDS))))
        return BioImageIOClient(BioImageIOSettings(index_url=extra.get("index_url") or PUBLISHED_INDEX, mirror=base_url(conn),
                                                   page_size=int(extra.get("page_size") or BioImageIOSettings.page_size),
                                                   allowed_origins=tuple(listed(extra.get("allowed_origins"))),
                                                   connection=self.conn_id), budget)

    def get_conn(self) -> BioImageIOClient:
        return self.client
