"""What every source's records are enriched with: papers (arXiv), licences, languages.

The arXiv connection is declared here, as a source declares its own in its manifest (cheap to import:
the provider info reads it while Airflow loads its configuration)."""

from __future__ import annotations

from mlentory.pipeline.source import ConnectionType
from mlentory.settings import ARXIV_CONN_ID

ARXIV_CONNECTION = ConnectionType(conn_id=ARXIV_CONN_ID, conn_type="arxiv", hook_name="arXiv API",
                                  hook_class_name="mlentory.enrichment.arxiv_papers.ArxivHook",
                                  hidden_fields=("schema", "login", "password", "port", "extra"),
                                  relabeling={"host": "API server (recordings, mirrors)"},
                                  placeholders={"host": "http://export.arxiv.org (empty: the public API)"})
