"""Writes docs/params.md: every DAG's params with their defaults and descriptions, read from the DAGs
themselves (``tests/test_dag_integrity.py`` checks the page is what this writes).

    .venv/bin/python scripts/params_doc.py            # rewrite docs/params.md
    .venv/bin/python scripts/params_doc.py --check    # exit 1 when the page is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "params.md"
# The order a user meets the DAGs in: each source's three stages, then the project's own DAGs.
STAGE_ORDER = ("extraction", "transformation", "loading")


def _order(dag_id: str) -> tuple[int, str, int]:
    source, _, stage = dag_id.partition("_")
    if source == "mlentory" or stage not in STAGE_ORDER:
        return (1, dag_id, 0)
    return (0, source, STAGE_ORDER.index(stage))


def render(dags: dict) -> str:  # noqa: ANN001 - dag_id -> DAG
    """The page for these DAGs: a table per DAG, its params in name order."""
    lines = ["# DAG params", "",
             "Every DAG's params, as its *Trigger* form shows them and as `conf` takes them through the REST API.",
             "Written from the DAGs by `scripts/params_doc.py`; `tests/test_dag_integrity.py` fails when this page",
             "is out of date.", ""]
    for dag_id in sorted(dags, key=_order):
        params = dags[dag_id].params
        lines += [f"## `{dag_id}`", "", "| param | default | what it does |", "|---|---|---|"]
        for name in sorted(params.keys()):
            param = params.get_param(name)
            description = (param.description or "").replace("|", "/").replace("\n", " ")
            lines.append(f"| `{name}` | `{json.dumps(param.value)}` | {description} |")
        lines.append("")
    return "\n".join(lines)


def dags_of_the_project() -> dict:
    sys.path[:0] = [str(ROOT / "dags"), str(ROOT / "plugins")]
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    return bag.dags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that docs/params.md is up to date")
    args = parser.parse_args()
    text = render(dags_of_the_project())
    if args.check:
        if not PAGE.exists() or PAGE.read_text() != text:
            raise SystemExit(f"{PAGE} is out of date: run scripts/params_doc.py")
        return
    PAGE.write_text(text)


if __name__ == "__main__":
    main()
