"""A transformation or loading task imports only what it uses: a source's mapping (what those tasks
load) never pulls in a client stack of the extraction (OpenML's brings scikit-learn, pandas and
scipy: seconds of CPU in every task)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

from mlentory.sources import SOURCES

# Libraries only an extraction needs (the clients and what they import).
EXTRACTION_ONLY = ("openml", "sklearn", "pandas", "scipy", "bioimageio.spec")


def test_no_sources_mapping_imports_an_extraction_client():
    # One interpreter (Airflow is imported once), the mappings one after the other: what each adds.
    code = (f"import json, sys; sys.path.insert(0, {str(ROOT / 'plugins')!r}); found = {{}}\n"
            "from mlentory.sources import SOURCES\n"
            "for source in SOURCES:\n"
            f"    source.mapping; found[source.key] = [m for m in {EXTRACTION_ONLY!r} if m in sys.modules]\n"
            "print(json.dumps(found))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {s.key: [] for s in SOURCES}
