"""FAIR4ML fidelity on Hub records in their real shapes: one test per class of defect a catalogue user
would see (invented languages, lost licences, over-claimed lineage, flattened evaluations, template
text as data, dropped DOIs, silent lookup failures)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from huggingface_hub import ModelCard, ModelCardData
from huggingface_hub.errors import HfHubHTTPError

from mlentory.enrichment.languages import identify_language
from mlentory.fair4ml.iris import hf_model_iri
from mlentory.fair4ml.mentions import iter_mentions
from mlentory.fair4ml.models import MLModel
from mlentory.pipeline.run_folder import RunFolder
from mlentory.pipeline.transformation import normalize_record
from mlentory.sources.huggingface import properties as p
from mlentory.sources.huggingface.cards import parse_card
from mlentory.sources.huggingface.extraction import hub_lookups
from mlentory.sources.huggingface.hub import raw_model_record
from mlentory.sources.huggingface.linking import link

SHA = "a" * 40


def hub_model(model_id: str, tags: list[str], card_data: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A ``GET /api/models/{id}`` body, parsed by the Hub client as the pipeline does."""
    body = {"_id": "1", "id": model_id, "modelId": model_id, "author": model_id.split("/")[0], "sha": SHA,
            "lastModified": "2025-01-01T00:00:00.000Z", "createdAt": "2024-01-01T00:00:00.000Z", "private": False,
            "gated": False, "disabled": False, "downloads": 1, "likes": 1, "tags": tags, "cardData": card_data,
            "siblings": [{"rfilename": "README.md"}], **extra}
    return raw_model_record(body)


def keys(values: list[dict[str, Any]]) -> list[str]:
    return [v["key"] for v in values]


def resolved(model: dict[str, Any], card=None) -> MLModel:
    """The model's FAIR4ML record, with every mention linked as the transformation does."""
    partials = [group(model, card) for group in p.PROPERTY_GROUPS.values()]
    links: dict[str, dict[str, list[str]]] = {}
    for partial in partials:
        for m in iter_mentions(partial):
            info = identify_language(m["key"]) if m["kind"] == "languages" else None
            links.setdefault(m["kind"], {})[m["key"]] = link(m, info)[0]
    provenance = {"identifier": model["id"], "source": "huggingface", "sourceSha": model.get("sha")}
    return normalize_record(hf_model_iri(model["id"]), partials, links, provenance)


# -- languages ------------------------------------------------------------------------------------

def test_short_library_and_architecture_tags_are_keywords_not_languages():
    model = hub_model("mlx-community/vit-art", ["mlx", "vit", "art", "esm", "en", "image-classification"], {"language": ["en"], "tags": ["mlx"]})
    partial = p.keywords_languages(model, None)
    assert keys(partial["inLanguage"]) == ["en"]
    assert {"mlx", "vit", "art", "esm", "en"} <= set(keys(partial["keywords"]))
    record = resolved(model)
    assert record.in_language == ["http://lexvo.org/id/iso639-3/eng"]


def test_a_language_tag_the_hub_marks_is_a_language_and_a_card_value_that_is_none_is_not():
    model = hub_model("x/coder", ["language:fr", "code"], {"language": ["code", "multilingual"]})
    assert keys(p.keywords_languages(model, None)["inLanguage"]) == ["code", "multilingual", "fr"]
    assert resolved(model).in_language == ["http://lexvo.org/id/iso639-3/mul", "http://lexvo.org/id/iso639-3/fra"]
    assert identify_language("code")["found"] is False


# -- licences -------------------------------------------------------------------------------------

def test_other_licence_keeps_its_name_and_its_relative_link_made_absolute_at_the_revision():
    model = hub_model("tencent/hunyuan", ["license:other"], {"license": "other", "license_name": "tencent-hunyuan-community", "license_link": "LICENSE.txt"})
    [mention] = p.licenses(model, None)["license"]
    iris, records = link(mention, None)
    url = f"https://huggingface.co/tencent/hunyuan/blob/{SHA}/LICENSE.txt"
    assert iris == [url]
    assert records[0][1].name == "tencent-hunyuan-community" and records[0][1].url == url


def test_every_licence_of_a_model_is_kept_with_spdx_iris_and_a_name_beside_a_standard_one():
    model = hub_model("meta/llama-x", ["license:llama3", "license:mit"], {"license": ["llama3", "MIT"], "license_name": "llama3-custom", "license_link": "./LICENSE"})
    record = resolved(model)
    assert record.license == [
        "https://w3id.org/mlentory/license/llama3",
        "https://spdx.org/licenses/MIT",
        f"https://huggingface.co/meta/llama-x/blob/{SHA}/LICENSE",
    ]
    [(_, llama)] = link({"kind": "licenses", "key": "llama3"}, None)[1]
    assert llama.name == "Llama 3 Community License Agreement" and llama.url.startswith("https://")
    [(_, mit)] = link({"kind": "licenses", "key": "mit"}, None)[1]
    assert (mit.id, mit.identifier, mit.url) == ("https://spdx.org/licenses/MIT", "MIT", "https://spdx.org/licenses/MIT.html")


def test_a_link_beside_one_licence_id_is_that_licences_text():
    model = hub_model("someone/llama3-finetune", ["license:llama3"], {"license": "llama3", "license_link": "LICENSE"})
    record = resolved(model)
    assert record.license == ["https://w3id.org/mlentory/license/llama3", f"https://huggingface.co/someone/llama3-finetune/blob/{SHA}/LICENSE"]
    [(_, text)] = link(p.licenses(model, None)["license"][1], None)[1]
    assert text.name == "Llama 3 Community License Agreement" and text.url == record.license[1]


def test_other_with_only_a_link_is_named_by_its_link():
    model = hub_model("THUDM/CogVideoX-5b", [], {"license": "other", "license_link": "https://huggingface.co/THUDM/CogVideoX-5b/blob/main/LICENSE"})
    [mention] = p.licenses(model, None)["license"]
    [(_, record)] = link(mention, None)[1]
    assert record.id == record.url == record.name == "https://huggingface.co/THUDM/CogVideoX-5b/blob/main/LICENSE"


# -- lineage --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("tags", "card_data", "relations"), [
    (["base_model:org/base", "base_model:quantized:org/base"], {"base_model": "org/base"}, {"quantizedFrom": ["org/base"]}),
    (["base_model:org/base", "base_model:adapter:org/base"], {"base_model": "org/base"}, {"adapterOf": ["org/base"]}),
    (["base_model:org/a", "base_model:merge:org/a", "base_model:org/b", "base_model:merge:org/b"], {}, {"mergedFrom": ["org/a", "org/b"]}),
    (["base_model:org/base", "base_model:finetune:org/base"], {}, {"fineTunedFrom": ["org/base"]}),
    ([], {"base_model": "org/base"}, {}),  # no relation stated: based on, nothing finer
    ([], {"base_model": ["org/base"], "base_model_relation": "finetune"}, {"fineTunedFrom": ["org/base"]}),
])
def test_lineage_uses_the_relation_the_hub_states(tags, card_data, relations):
    record = resolved(hub_model("me/derived", tags, card_data))
    bases = sorted({b for v in relations.values() for b in v} or ["org/base"])
    assert record.is_based_on == [f"https://huggingface.co/{b}" for b in bases]
    for field, term in (("fine_tuned_from", "fineTunedFrom"), ("quantized_from", "quantizedFrom"), ("adapter_of", "adapterOf"), ("merged_from", "mergedFrom")):
        assert getattr(record, field) == [f"https://huggingface.co/{b}" for b in relations.get(term, [])], term


def test_hub_tags_win_over_a_renamed_base_in_the_card():
    model = hub_model("meta-llama/Llama-3.1-8B-Instruct", ["base_model:meta-llama/Llama-3.1-8B", "base_model:finetune:meta-llama/Llama-3.1-8B"],
                      {"base_model": "meta-llama/Meta-Llama-3.1-8B"})
    assert p.base_models(model) == [("meta-llama/Llama-3.1-8B", "finetune")]


def test_a_base_model_links_to_a_named_stub():
    iris, [(kind, stub)] = link({"kind": "models", "key": "jdoe/vanished-model"}, None)
    assert kind == "base_models" and iris == ["https://huggingface.co/jdoe/vanished-model"]
    assert stub.name == "jdoe/vanished-model" and stub.url == iris[0]


# -- evaluations ----------------------------------------------------------------------------------

MODEL_INDEX = [{"name": "roberta-mrpc", "results": [
    {"task": {"type": "text-classification", "name": "Text Classification"},
     "dataset": {"type": "glue", "name": "GLUE MRPC", "config": "mrpc", "split": "validation", "revision": "r1"},
     "metrics": [{"type": "accuracy", "value": 0.9, "name": "Accuracy", "verified": True}, {"type": "f1", "value": "91.2%"}]},
    {"task": {"type": "text-classification"}, "dataset": {"type": "unknown", "name": "unknown"},
     "metrics": [{"type": "accuracy", "value": 0.7}]},
]}]


def test_each_model_index_result_is_an_evaluation_with_property_values():
    model = hub_model("org/roberta-mrpc", [], {"model-index": MODEL_INDEX, "metrics": ["accuracy", "f1"]})
    record = resolved(model)
    first, second = record.has_evaluation
    assert first.evaluated_ml_model == record.id
    assert first.evaluation_dataset == ["https://huggingface.co/datasets/glue"]
    assert (first.dataset_config, first.dataset_split, first.dataset_revision) == ("mrpc", "validation", "r1")
    assert first.ml_task == ["https://w3id.org/mlentory/task/text-classification"]
    assert [(m.property_id, m.value, m.verified) for m in first.evaluation_metrics] == [("accuracy", 0.9, True), ("f1", 91.2, None)]
    # A placeholder dataset creates no dataset, but the result is kept.
    assert second.evaluation_dataset == [] and second.evaluation_metrics[0].value == 0.7
    assert record.evaluated_on == ["https://huggingface.co/datasets/glue"]
    assert record.evaluation_metrics == ["accuracy", "f1"]
    # Deterministic: the same result gets the same IRI in every run.
    assert resolved(model).has_evaluation[0].id == first.id


def test_the_model_index_the_api_returns_beside_a_trimmed_card_data_counts_too():
    model = hub_model("org/roberta-mrpc", [], {"license": "mit"}, **{"model-index": MODEL_INDEX})
    assert len(resolved(model).has_evaluation) == 2


# Real cards' shapes: BigCode's HumanEvalPack results (one dataset type, a result per language under
# its own name), spaCy's (results told apart by the task's name only, no dataset), and 2021's
# ``model_index`` with one ``metric:`` per result and the configuration as ``args``.
HUMANEVALPACK_CARD = """---
license: bigcode-openrail-m
model-index:
- name: OctoCoder
  results:
  - task:
      type: text-generation
    dataset:
      type: bigcode/humanevalpack
      name: HumanEvalSynthesis(Python)
    metrics:
    - name: pass@1
      type: pass@1
      value: 46.2
      verified: false
  - task:
      type: text-generation
    dataset:
      type: bigcode/humanevalpack
      name: HumanEvalSynthesis(JavaScript)
    metrics:
    - name: pass@1
      type: pass@1
      value: 39.2
      verified: false
  - task:
      type: text-generation
    dataset:
      type: bigcode/humanevalpack
      name: HumanEvalFix(Rust)
    metrics:
    - name: pass@1
      type: pass@1
      value: 21.0
      verified: false
---
# OctoCoder
"""
SPACY_CARD = """---
tags:
- spacy
- token-classification
language:
- en
license: mit
model-index:
- name: en_core_web_sm
  results:
  - task:
      name: NER
      type: token-classification
    metrics:
    - name: NER Precision
      type: precision
      value: 0.8454836771
    - name: NER Recall
      type: recall
      value: 0.8456530449
  - task:
      name: TAG
      type: token-classification
    metrics:
    - name: TAG (XPOS) Accuracy
      type: accuracy
      value: 0.97246532
  - task:
      name: SENTER
      type: token-classification
    metrics:
    - name: Sentences F-Score
      type: f_score
      value: 0.9
---
# en_core_web_sm
"""
CARD_2021 = """---
language: tr
datasets:
- common_voice
metrics:
- wer
license: apache-2.0
model_index:
- name: XLSR Wav2Vec2 Turkish
  results:
  - task:
      name: Speech Recognition
      type: automatic-speech-recognition
    dataset:
      name: Common Voice tr
      type: common_voice
      args: tr
    metric:
      name: Test WER
      type: wer
      value: 27.6
---
# Wav2Vec2-Large-XLSR-53-Turkish
"""


def card_model(model_id: str, text: str):  # noqa: ANN201
    """The model as the pipeline reads it: the API's answer (card data as the Hub sends it) and the card."""
    card = parse_card(text)
    return hub_model(model_id, [], dict(card.metadata)), card


def metric_values(record: MLModel) -> dict[str, list]:
    return {e.name: [m.value for m in e.evaluation_metrics] for e in record.has_evaluation}


@pytest.mark.parametrize("from_card", [True, False], ids=["card", "api"])
def test_results_told_apart_by_the_dataset_name_are_three_evaluations(from_card):
    model, card = card_model("bigcode/octocoder", HUMANEVALPACK_CARD)
    record = resolved(model, card) if from_card else resolved(hub_model("bigcode/octocoder", [], {"model-index": card.metadata["model-index"]}))
    assert metric_values(record) == {
        "text-generation on HumanEvalSynthesis(Python)": [46.2],
        "text-generation on HumanEvalSynthesis(JavaScript)": [39.2],
        "text-generation on HumanEvalFix(Rust)": [21.0],
    }
    assert len({e.id for e in record.has_evaluation}) == 3
    assert all(e.evaluation_dataset == ["https://huggingface.co/datasets/bigcode/humanevalpack"] for e in record.has_evaluation)


def test_results_told_apart_by_the_task_name_have_their_own_iris():
    model, card = card_model("spacy/en_core_web_sm", SPACY_CARD)
    record = resolved(model, card)
    assert metric_values(record) == {"NER": [0.8454836771, 0.8456530449], "TAG": [0.97246532], "SENTER": [0.9]}
    assert len({e.id for e in record.has_evaluation}) == 3
    assert len({m.id for e in record.has_evaluation for m in e.evaluation_metrics}) == 4
    assert "_warnings" not in p.evaluations(model, card)


def test_the_2021_model_index_with_one_metric_per_result_is_read():
    model, card = card_model("m3hrdadfi/wav2vec2-large-xlsr-turkish", CARD_2021)
    [evaluation] = resolved(model, card).has_evaluation
    assert evaluation.name == "Speech Recognition on Common Voice tr (tr)"
    assert [(m.property_id, m.value) for m in evaluation.evaluation_metrics] == [("wer", 27.6)]
    assert (evaluation.dataset_config, evaluation.evaluation_dataset) == ("tr", ["https://huggingface.co/datasets/common_voice"])
    assert "_warnings" not in p.evaluations(model, card)


def test_placeholders_are_no_values_and_a_warning_says_what_was_left_out():
    index = [{"name": "m", "results": [
        {"task": {"type": "text-classification"}, "dataset": {"type": "imdb", "name": "imdb", "revision": "None", "split": "N/A", "config": "-"},
         "metrics": [{"type": "accuracy", "value": 0.9}, {"type": "f1", "value": "TBD"}]},
        "not a result",
    ]}]
    evaluations = p.evaluations(hub_model("org/m", [], {"model-index": index}), None)
    [evaluation] = evaluations["hasEvaluation"]
    assert (evaluation["datasetRevision"], evaluation["datasetSplit"], evaluation["datasetConfig"]) == (None, None, None)
    assert [m["value"] for m in evaluation["evaluationMetrics"]] == [0.9]
    [note] = evaluations["_warnings"]
    assert note["reason"].startswith("model-index read in part: 1 evaluations recorded")
    assert "'f1' of result 1 has no readable value" in note["reason"] and "result 2 is str" in note["reason"]
    unreadable = p.evaluations(hub_model("org/m", [], {"model-index": [{"name": "m", "results": [{"metrics": [{"type": "acc"}]}]}]}), None)
    assert unreadable["hasEvaluation"] == []
    assert unreadable["_warnings"][0]["reason"].startswith("model-index not readable; no evaluation recorded")


# -- card template text ----------------------------------------------------------------------------

def template_card(**filled: str) -> str:
    """A card written from the Hub's own template (as ``ModelCard.from_template`` writes it)."""
    return str(ModelCard.from_template(ModelCardData(license="mit", language="en"), model_id="me/templated", **filled))


def test_template_placeholders_links_and_paper_never_become_values():
    text = template_card(model_summary="A small test model.", direct_use="Classifying test sentences.")
    card = parse_card(text)
    model = hub_model("me/templated", ["license:mit", "arxiv:1910.09700", "en"], {"license": "mit", "language": "en"})
    values = {group: fn(model, card) for group, fn in p.PROPERTY_GROUPS.items()}
    flat = str(values)
    assert "More Information Needed" not in flat and "More information needed" not in flat
    assert "mlco2" not in flat and "Use the code below" not in flat
    assert values["citations"]["referencePublication"] == []  # the template's carbon paper
    assert values["card_sections"]["codeRepository"] == []
    assert values["card_sections"]["intendedUse"] == "Direct Use\nClassifying test sentences."
    assert values["card_sections"]["modelRisksBiasLimitations"] is None
    assert values["card_sections"]["usageInstructions"] is None


def test_numbered_and_reworded_headings_are_recognised():
    card = parse_card("# m\n\n## 1. Model description\n\nA parser.\n\n## 3. Intended uses\n\nParsing logs.\n\n"
                      "## **Limitations and bias**\n\nEnglish only.\n\n## 4) Usage\n\n```python\nimport m\n```\n\n"
                      "## Ethical Considerations\n\nNone known.\n")
    partial = p.card_sections({"id": "a/b"}, card)
    assert partial["description"] == "A parser."
    assert partial["intendedUse"] == "Parsing logs."
    assert partial["modelRisksBiasLimitations"] == "English only."
    assert partial["codeSampleSnippet"] == "import m"
    assert partial["ethicalSocial"] == "None known."


def test_code_repository_only_where_the_card_presents_the_models_code():
    card = parse_card(
        "# m\n\nOur code: https://github.com/lab/model-code\n\nFine-tuned with [trl](https://github.com/huggingface/trl) "
        "using data from https://github.com/someone/dataset-notes.\n\n```bash\npip install git+https://github.com/huggingface/transformers\n```\n\n"
        "- **Resources:** [GitHub](https://github.com/lab-team/M), [Site](https://lab.example)\n\n"
        "## Evaluation\n\nThis code model beats the [HumanEval](https://github.com/openai/human-eval) baseline at code generation.\n\n"
        "Compared with https://github.com/lab/unrelated-tool and https://github.com/other/M-v2.\n")
    assert p.card_sections({"id": "lab/M"}, card)["codeRepository"] == ["https://github.com/lab/model-code", "https://github.com/lab-team/M"]
    named = parse_card("# Tagger\n\nWeights for https://github.com/lab/Tagger (see also https://github.com/lab/benchmarks).\n")
    assert p.card_sections({"id": "lab/Tagger-base"}, named)["codeRepository"] == ["https://github.com/lab/Tagger"]


# BigScience's card template (BLOOM and the cards written from it): an italic note under each heading.
BIGSCIENCE_TEMPLATE_CARD = """# Model Card for Tiny-BLOOM

# Model Details

## Basics
*This section provides information about the model type, version, license, funders, release date, developers, and contact information.*
*It is useful for anyone who wants to reference the model.*

<details>
<summary>Click to expand</summary>

**Model Type:** Transformer-based Language Model

</details>

## Model Description
*This section provides information for anyone who wants to know about the model.*

Tiny-BLOOM is an autoregressive language model trained to continue text from a prompt in 46 languages.

# Uses

*This section addresses questions around how the model is intended to be used, discusses the foreseeable users of the model (including those affected by the model), and describes uses that are considered out of scope or misuse of the model.*
*It is useful for anyone considering using the model or who is affected by the model.*

## Intended Use
This model is being created in order to enable public research on large language models.

## How to use

With `transformers<4.51.0` you will encounter:

```
KeyError: 'tinybloom'
```

```python
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained("bigscience/tiny-bloom")
```

## Technical Specifications
* Layer normalization applied to word embeddings layer (`StableEmbedding`; see [code](https://github.com/facebookresearch/bitsandbytes), [paper](https://arxiv.org/pdf/2110.02861.pdf))
* Install [flash-attention](https://github.com/Dao-AILab/flash-attention) and [apex](https://github.com/someone-else/apex-fork) first.
* The card of the original model: [model card](https://github.com/other-lab/tiny-bloom/blob/master/model_card.md).
* Trained with our fork of [Megatron-DeepSpeed](https://github.com/bigscience-workshop/Megatron-DeepSpeed).
"""


def test_template_guidance_and_error_output_are_no_values():
    card = parse_card(BIGSCIENCE_TEMPLATE_CARD)
    partial = p.card_sections({"id": "bigscience/tiny-bloom"}, card)
    text = json.dumps(partial)
    assert "This section" not in text and "anyone who" not in text and "Click to expand" not in text
    assert partial["description"] == "Tiny-BLOOM is an autoregressive language model trained to continue text from a prompt in 46 languages."
    assert partial["intendedUse"].startswith("Intended Use\nThis model is being created")
    assert partial["codeSampleSnippet"].startswith("from transformers import AutoModelForCausalLM")
    # A component's and a dependency's repositories are not the model's code; the training fork it claims is.
    assert partial["codeRepository"] == ["https://github.com/bigscience-workshop/Megatron-DeepSpeed"]


@pytest.mark.parametrize("block", [
    "KeyError: 'qwen3'",
    "Traceback (most recent call last):\n  File \"run.py\", line 3, in <module>\n    import m\nModuleNotFoundError: No module named 'm'",
    "ValueError: The checkpoint you are trying to load has model type `qwen3` but Transformers does not recognize this architecture.",
])
def test_a_code_block_of_error_output_is_no_code_sample(block):
    card = parse_card(f"# m\n\n## Usage\n\nOlder versions fail with:\n\n```\n{block}\n```\n\n```python\nimport m\nm.run()\n```\n")
    assert p.card_sections({"id": "a/m"}, card)["codeSampleSnippet"] == "import m\nm.run()"


@pytest.mark.parametrize("value", ["None", "null", "unknown", "N/A", "-", "TBD", "[More Information Needed]", "n/a.", "—"])
def test_placeholders_are_no_values_in_any_field(value):
    model = hub_model("org/m", [], {"datasets": [value], "language": [value], "base_model": value, "license_name": value, "library_name": value,
                                    "pipeline_tag": value})
    record = resolved(model).to_jsonld()
    flat = json.dumps(record)
    assert f'"{value}"' not in flat, flat
    assert "trainedOn" not in record and "inLanguage" not in record and "isBasedOn" not in record


def test_description_is_prose_not_banners_badges_or_link_rows():
    card = parse_card('# m\n\n<p align="center"><img src="logo.png"></p>\n\n[Paper](https://a.example) | [GitHub](https://github.com/a/b) | '
                      "[Demo](https://d.example)\n\n![banner](banner.png)\n\nM is a small model that tags parts of speech in English news text "
                      "with a single pass.\n")
    assert p.card_sections({"id": "a/m"}, card)["description"] == (
        "M is a small model that tags parts of speech in English news text with a single pass.")


def test_norwegian_read_by_yaml_as_false_is_still_norwegian():
    card = parse_card("---\nlanguage:\n- no\n- en\n---\n# m\n")
    model = hub_model("nb/model", [], card.metadata)
    assert keys(p.keywords_languages(model, card)["inLanguage"]) == ["no", "en"]
    assert identify_language("no")["name"] == "Norwegian"


# -- DOIs -----------------------------------------------------------------------------------------

def test_dois_become_the_models_same_as_and_papers_with_doi_iris():
    card = parse_card("# m\n\nSee https://doi.org/10.18653/v1/2020.acl-main.703 and arXiv DOI 10.48550/arXiv.2101.00001.\n\n"
                      "```bibtex\n@article{x,\n  title = {A Paper With a DOI},\n  doi = {10.1000/XYZ.123},\n  eprint = {2301.00002}\n}\n```\n")
    model = hub_model("openai-community/gpt2", ["doi:10.57967/hf/0039"], {"doi": "10.57967/HF/0040"})
    assert p.basic(model, card)["sameAs"] == ["https://doi.org/10.57967/hf/0039", "https://doi.org/10.57967/hf/0040"]
    refs = {m["key"]: m for m in p.citations(model, card)["referencePublication"]}
    assert set(refs) == {"doi:10.18653/v1/2020.acl-main.703", "2101.00001", "doi:10.1000/xyz.123", "2301.00002"}
    iris, [(_, article)] = link(refs["doi:10.1000/xyz.123"], None)
    assert iris == ["https://doi.org/10.1000/xyz.123"] and article.name == "A Paper With a DOI"


# -- visible failures -----------------------------------------------------------------------------

def _http_error(status: int) -> HfHubHTTPError:
    return HfHubHTTPError(f"{status} Server Error", response=httpx.Response(status, request=httpx.Request("GET", "http://127.0.0.1/x")))


def test_every_failed_lookup_is_a_warning_and_failures_are_not_cached(tmp_path):
    run = RunFolder.create(tmp_path, "hf")
    outcomes = {"ok/one": {"kind": "Organization"}, "gone/two": _http_error(404), "flaky/three": _http_error(503)}

    def fetch(key: str) -> dict[str, Any]:
        if isinstance(outcomes[key], Exception):
            raise outcomes[key]
        return {"found": True, **outcomes[key]}

    found = hub_lookups(run, "accounts", "organisations", None, fetch).look_up(list(outcomes))
    warnings = {w["key"]: w for w in run.warnings()}
    assert set(warnings) == {"gone/two", "flaky/three"}
    assert "404" in warnings["gone/two"]["reason"] and "503" in warnings["flaky/three"]["reason"]
    assert "flaky/three" not in found
    # The next run asks again for the failure, and still lists the cached not-found.
    outcomes["flaky/three"] = {"kind": "Person"}
    again = hub_lookups(RunFolder.create(tmp_path, "hf"), "accounts", "organisations", None, fetch).look_up(list(outcomes))
    assert again["flaky/three"]["kind"] == "Person"


def test_an_account_whose_type_is_unknown_is_not_an_organization():
    [(_, agent)] = link({"kind": "organisations", "key": "ghost"}, {"found": False})[1]
    assert agent.to_jsonld()["@type"] == "Account"


def test_storage_requirements_say_what_they_measure():
    model = hub_model("a/b", [], {}, usedStorage=1234)
    assert p.basic(model, None)["storageRequirements"].startswith("1234 bytes: storage used by the model repository")


def test_a_yaml_alias_bomb_is_refused_and_the_body_kept():
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n" \
           "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n---\n# m\n\nA model that parses log files into structured events for search.\n"
    from mlentory.sources.huggingface.cards import card_record

    record = card_record("a/bomb", None, bomb)
    assert record["metadata"] == {} and "aliases" in record["metadata_error"]
    assert len(json.dumps(record)) < 2_000
    assert p.card_sections({"id": "a/bomb"}, parse_card(bomb))["description"] == "A model that parses log files into structured events for search."


def test_python_tags_in_front_matter_are_not_executed():
    card = parse_card("---\nlicense: !!python/object/apply:os.system ['echo pwned']\n---\n# m\n\nText of the card here.\n")
    assert card.metadata == {} and card.metadata_error


# -- shared nodes ---------------------------------------------------------------------------------

def test_a_licence_name_that_is_a_known_id_links_to_the_known_licence():
    model = hub_model("someone/llama3-ft", ["license:other"], {"license": "other", "license_name": "llama3"})
    [mention] = p.licenses(model, None)["license"]
    iris, [(_, record)] = link(mention, None)
    assert iris == ["https://w3id.org/mlentory/license/llama3"]
    assert (record.name, record.url, record.alternate_name) == ("Llama 3 Community License Agreement", "https://llama.meta.com/llama3/license/", [])
    by_page = hub_model("someone/other-ft", [], {"license": "other", "license_name": "Meta Llama 3 License", "license_link": "https://llama.meta.com/llama3/license"})
    [(_, known)] = link(p.licenses(by_page, None)["license"][0], None)[1]
    assert (known.id, known.name, known.alternate_name) == ("https://w3id.org/mlentory/license/llama3", "Llama 3 Community License Agreement", ["Meta Llama 3 License"])


def test_names_of_one_licence_merge_the_same_in_any_order():
    from itertools import permutations

    from mlentory.fair4ml.linking import with_names_merged

    given = [{"@id": "https://x.example/LICENSE", "name": n, "url": "https://x.example/LICENSE"} for n in ("acme", "Acme Research License", "ACME-RL")]
    merged = {json.dumps(with_names_merged(a, b, c), sort_keys=True) for a, b, c in permutations(given)}
    assert len(merged) == 1
    assert json.loads(merged.pop())["name"] == "Acme Research License"
