"""End to end: the three DAGs against the local graph and index servers with the recorded Hub snapshot."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline import run_pipeline

SENTIMENT = "https://huggingface.co/acme-ai/sentiment-lm"


def test_pipeline_loads_fair4ml_graph_and_index(empty_stores, hub_replay, data_root):
    run_folder = run_pipeline({"num_models": 5, "model_ids": ["acme-ai/vision-det"], "ancestor_generations": 2})

    with empty_stores.driver() as driver, driver.session() as session:
        models = session.run("MATCH (m:fair4ml__MLModel) RETURN m.uri AS uri ORDER BY uri").value()
        print(models)
        rels = session.run(
            "MATCH (m:Resource {uri: $uri})-[r]->(x) RETURN type(r) AS type, x.uri AS target", uri=SENTIMENT
        ).data()
        print(rels)
    print(json.dumps(json.loads((Path(run_folder) / "loading" / "report.json").read_text()), indent=1))
    assert len(models) == 8
