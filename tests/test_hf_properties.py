"""The property groups on recorded records: what each FAIR4ML property is made of."""

from __future__ import annotations

import pytest
from conftest import FIXTURE_SNAPSHOT
from records import card, raw_model

from mlentory.sources.huggingface import properties as p
from mlentory.sources.huggingface.cards import parse_card


def load(stem: str):
    return raw_model(FIXTURE_SNAPSHOT, stem), card(FIXTURE_SNAPSHOT, stem)


def keys(values):
    return [v["key"] for v in values]


def test_basic_properties_from_model_info():
    model, parsed = load("acme-ai__sentiment-lm")
    basic = p.basic(model, parsed)
    assert basic["name"] == "acme-ai/sentiment-lm"
    assert basic["url"] == "https://huggingface.co/acme-ai/sentiment-lm"
    assert basic["dateCreated"].startswith("2024-05-01T08:00:00")
    assert basic["dateModified"].startswith("2025-01-15T12:00:00")
    assert basic["version"] == "3" * 40
    assert basic["readme"] == "https://huggingface.co/acme-ai/sentiment-lm/blob/" + "3" * 40 + "/README.md"
    assert basic["softwareRequirements"] == ["transformers"]
    assert basic["isAccessibleForFree"] is True


def test_gated_model_is_free_after_a_click_through_and_says_how():
    basic = p.basic(*load("lab-x__speech-asr"))
    assert basic["isAccessibleForFree"] is True
    assert basic["conditionsOfAccess"].startswith("gated (manual)") and "approve" in basic["conditionsOfAccess"]


def test_every_tag_is_a_keyword_and_languages_come_from_the_card():
    model, parsed = load("acme-ai__base-lm")
    partial = p.keywords_languages(model, parsed)
    assert set(model["tags"]) <= set(keys(partial["keywords"]))
    assert {"gpt2", "causal-lm", "en"} <= set(keys(partial["keywords"]))
    assert keys(partial["inLanguage"]) == ["en", "fr"]


def test_task_and_category():
    partial = p.task_category(*load("lab-x__speech-asr"))
    assert keys(partial["mlTask"]) == ["automatic-speech-recognition"]
    assert partial["modelCategory"] == ["whisper", "WhisperForConditionalGeneration"]


def test_other_license_uses_license_name_and_link():
    partial = p.licenses(*load("jdoe__sentiment-lm-gguf"))
    assert partial["license"] == [{"kind": "licenses", "key": "https://acme.example/license", "name": "acme-community",
                                   "url": "https://acme.example/license"}]


def test_training_and_evaluation_datasets_and_metrics():
    partial = p.datasets(*load("acme-ai__sentiment-lm"))
    assert keys(partial["trainedOn"]) == ["stanfordnlp/imdb"]
    assert keys(partial["evaluatedOn"]) == ["stanfordnlp/imdb"]
    assert partial["evaluationMetrics"] == ["accuracy"]


@pytest.mark.parametrize(
    ("stem", "based_on", "relations"),
    [
        ("acme-ai__sentiment-lm", ["acme-ai/base-lm"], {"fineTunedFrom": ["acme-ai/base-lm"]}),
        ("jdoe__sentiment-lm-gguf", ["acme-ai/sentiment-lm"], {"quantizedFrom": ["acme-ai/sentiment-lm"]}),
        ("community__merged-lm", ["acme-ai/base-lm", "jdoe/vanished-model"], {"mergedFrom": ["acme-ai/base-lm", "jdoe/vanished-model"]}),
        ("acme-ai__vision-det", [], {}),
    ],
)
def test_lineage_distinguishes_fine_tunes_from_other_derivations(stem, based_on, relations):
    partial = p.lineage(*load(stem))
    assert keys(partial["isBasedOn"]) == based_on
    for term in p.BASE_MODEL_RELATIONS.values():
        assert keys(partial[term]) == relations.get(term, []), term


def test_card_sections_become_fair4ml_text_properties():
    partial = p.card_sections(*load("acme-ai__sentiment-lm"))
    assert partial["intendedUse"].startswith("Intended for sentiment analysis of English movie reviews")
    assert "biases of IMDB" in partial["modelRisksBiasLimitations"]
    assert partial["description"] == "A GPT-2 style classifier for binary sentiment of English movie reviews."
    assert partial["codeSampleSnippet"].startswith("from transformers import pipeline")
    assert partial["hasCO2eEmissions"] == "120.5 g CO2e (training: fine-tuning; source: codecarbon)"


def test_card_sections_include_subsections_and_skip_placeholders():
    partial = p.card_sections(*load("lab-x__speech-asr"))
    assert "Transcription of English and German speech." in partial["intendedUse"]
    assert "Surveillance" in partial["intendedUse"]
    assert partial["ethicalSocial"].startswith("Speech data may identify speakers")
    sentiment = p.card_sections(*load("acme-ai__sentiment-lm"))
    assert "More Information Needed" not in str(sentiment)


def test_malformed_front_matter_keeps_the_body():
    model, parsed = load("lab-x__broken-card")
    assert parsed.metadata_error and parsed.metadata == {}
    assert p.card_sections(model, parsed)["description"].startswith("The front matter above is not valid YAML")


def test_citations_and_reference_publications_from_tags_and_card_links():
    partial = p.citations(*load("acme-ai__sentiment-lm"))
    assert keys(partial["referencePublication"]) == ["2102.00002"]
    assert partial["citation"][0].startswith("@inproceedings{hopper2021sentiment")
    code = p.card_sections(*load("acme-ai__base-lm"))["codeRepository"]
    assert code == ["https://github.com/acme-ai/base-lm"]


def test_shared_by_is_the_author():
    assert keys(p.sharing(*load("jdoe__sentiment-lm-gguf"))["sharedBy"]) == ["jdoe"]


def test_model_without_card_gets_no_card_properties():
    model, parsed = load("acme-ai__vision-det")
    assert parsed is None
    assert p.card_sections(model, parsed) == {}
    assert p.basic(model, parsed)["readme"] is None


def test_card_section_headings_inside_code_are_ignored():
    parsed = parse_card("# m\n\n## Usage\n\n```bash\n# not a heading\npip install x\n```\n\n## Limitations\n\nSlow.\n")
    partial = p.card_sections({"id": "a/b"}, parsed)
    assert "# not a heading" in partial["usageInstructions"]
    assert partial["modelRisksBiasLimitations"] == "Slow."
