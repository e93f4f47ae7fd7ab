"""The BioImage Model Zoo's descriptions read by the spec's own library, and its property groups
and linkers, on the fixture's descriptions (0.5 and 0.4 models, a dataset, a rejected one)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import FIXTURE_SNAPSHOT

from mlentory.fair4ml.linking import SAME_MODELS, SHARED_LINKERS
from mlentory.fair4ml.mentions import WARNINGS
from mlentory.fair4ml.models import MLModel
from mlentory.pipeline.transformation import normalize_record
from mlentory.sources.bioimageio import extraction
from mlentory.sources.bioimageio import properties as p
from mlentory.sources.bioimageio.linking import LINKERS, dataset_records

ZOO = FIXTURE_SNAPSHOT / "bioimageio" / "rdf_content" / "bioimage-io"


def described(name: str, **extra: object) -> dict:
    source = f"https://hypha.aicell.io/bioimage-io/artifacts/{name}/files/rdf.yaml?version=v0"
    content = yaml.safe_load((ZOO / name / "v0" / "rdf.yaml").read_text())
    description, notes = extraction.validated(content, source)
    return {"id": f"bioimage-io/{name}", "type": content["type"], "version": "v0", "sha256": "0" * 64, "source": source,
            "created_at": "2025-07-01T22:53:02Z", "description": description, "notes": notes, **extra}


def resource(name: str, **extra: object) -> dict:
    """A fixture resource as the extraction hands it on: the resources it names resolved against
    the rest of the fixture collection."""
    collection = [described(path.parent.parent.name) for path in ZOO.glob("*/v0/rdf.yaml") if path.parent.parent.name != "fixture-rejected"]
    return extraction.with_collection_ids(described(name, **extra), extraction.alias_table(collection))


def test_a_05_model_maps_onto_fair4ml():
    shark = resource("fixture-shark")
    basic = p.basic(shark)
    assert basic["url"] == "https://bioimage.io/#/artifacts/fixture-shark" and basic["version"] == "1.2"
    assert basic["sameAs"] == ["https://doi.org/10.5281/zenodo.5764892"] == [basic["archivedAt"]]
    assert basic["readme"] == "https://hypha.aicell.io/bioimage-io/artifacts/fixture-shark/files/documentation.md?version=v0"
    assert basic["image"] == ["https://hypha.aicell.io/bioimage-io/artifacts/fixture-shark/files/cover.png?version=v0"]
    assert basic["codeRepository"] == ["https://github.com/constantinpape/torch-em"]
    assert basic["dateCreated"].startswith("2022-06-15T20:06:22")
    people = p.people(shark)
    assert [m["key"] for m in people["creator"]] == ["https://orcid.org/0000-0002-1825-0097", "github:constantinpape"]
    assert [m["key"] for m in people["maintainer"]] == ["github:constantinpape"]
    assert [m["key"] for m in people["sharedBy"]] == ["name:Fynn Beuttenmüller"]  # an e-mail address is never an identity
    cited = p.citations(shark)
    assert [m["key"] for m in cited["referencePublication"]] == ["doi:10.1038/nmeth.4151", "2101.00001"]
    assert cited["citation"][0] == "segmentation algorithm https://doi.org/10.1038/nmeth.4151"
    assert p.lineage_data(shark)["trainedOn"] == [{"kind": "datasets", "key": "bioimage-io/fixture-cells"}]
    technical = p.technical(shark)
    assert technical == {"softwareRequirements": ["pytorch_state_dict (pytorch 1.13)", "torchscript (pytorch 1.13)"], "modelCategory": ["UNet2d"]}


def test_a_04_model_is_converted_by_the_spec_library_and_maps_the_same_way():
    legacy = resource("fixture-legacy")
    assert legacy["description"]["format_version"].startswith("0.5")  # converted
    assert p.basic(legacy)["readme"].endswith("/fixture-legacy/files/README.md?version=v0")
    assert [m["key"] for m in p.people(legacy)["creator"]] == ["https://orcid.org/0000-0002-1825-0097", "name:Grace Hopper"]
    assert [m["key"] for m in p.citations(legacy)["referencePublication"]] == ["doi:10.1109/cvpr.2019.00223", "1811.10980"]
    assert sorted(p.technical(legacy)["softwareRequirements"]) == ["keras_hdf5 (tensorflow 1.15)", "tensorflow_saved_model_bundle (tensorflow 1.15)"]


def test_a_rejected_description_says_why():
    content = yaml.safe_load((ZOO / "fixture-rejected" / "v0" / "rdf.yaml").read_text())
    with pytest.raises(extraction.Rejected, match=r"cite\.0: Value error, Either 'doi' or 'url' is required"):
        extraction.validated(content, "https://hypha.aicell.io/bioimage-io/artifacts/fixture-rejected/files/rdf.yaml?version=v0")


def test_unbounded_ranges_written_as_null_by_json_copies_are_read_as_unbounded():
    legacy = yaml.safe_load((ZOO / "fixture-legacy" / "v0" / "rdf.yaml").read_text())
    legacy["inputs"][0]["data_range"] = [None, None]  # as a JSON copy of the description writes [-.inf, .inf]
    description, notes = extraction.validated(legacy, "https://example.org/x/rdf.yaml")
    assert description["type"] == "model" and notes == ["inputs[0].data_range [None, None] read as unbounded (JSON has no infinity)"]


def test_the_same_person_is_one_node_across_sources_and_the_datasets_of_the_collection_are_datasets():
    ada = p.person_mention({"name": "Ada Lovelace", "orcid": "0000-0002-1825-0097"})
    [iri], [(kind, person)] = LINKERS["organisations"](ada, {})
    assert iri == "https://orcid.org/0000-0002-1825-0097" and kind == "organisations" and person.to_jsonld()["@type"] == "Person"
    [iri], [(kind, _)] = LINKERS["datasets"]({"kind": "datasets", "key": "fixture-cells"}, {})
    assert iri == "https://bioimage.io/#/artifacts/fixture-cells" and kind == "stubs"  # the collection's own record describes it
    records = dict(dataset_records(resource("fixture-cells")))
    dataset = records["datasets"]
    assert dataset.id == iri and dataset.name == "Fixture Nuclei Training Data" and dataset.license == ["https://spdx.org/licenses/CC0-1.0"]
    assert dataset.reference_publication == ["https://doi.org/10.1038/s41592-019-0612-7"]


def test_every_group_of_every_fixture_model_normalizes_into_a_valid_mlmodel():
    for name in ("fixture-shark", "fixture-legacy"):
        record = resource(name)
        partials = [group(record) for group in p.PROPERTY_GROUPS.values()]
        for partial in partials:
            partial.pop(WARNINGS, None)  # the stage keeps them apart
        model = normalize_record("https://bioimage.io/#/artifacts/" + name, partials, {},
                                 {"identifier": record["id"], "source": "ai4life", "sourceSha": record["sha256"]})
        assert isinstance(model, MLModel) and model.name and model.license == []  # mentions unresolved without links


@pytest.mark.parametrize("path", sorted(Path(ZOO).glob("*/v0/rdf.yaml")), ids=lambda path: path.parent.parent.name)
def test_fixture_descriptions_are_in_the_real_shapes(path):
    content = yaml.safe_load(path.read_text())
    assert content["type"] in ("model", "dataset", "application") and "format_version" in content


def test_a_model_the_zoo_also_publishes_on_the_hub_carries_both_identities():
    from mlentory.sources.huggingface import properties as hf
    from mlentory.sources.huggingface.cards import parse_card

    shark = resource("fixture-shark")  # its links name the Hub's page of the model
    assert p.basic(shark)["sameModel"] == [{"kind": SAME_MODELS, "key": "https://huggingface.co/acme-ai/vision-det"}]
    assert p.basic(shark)["sameAs"] == ["https://doi.org/10.5281/zenodo.5764892"]  # identifiers stay literals
    card = parse_card("# fixture-shark\n\nAlso in the BioImage Model Zoo: https://bioimage.io/#/artifacts/fixture-shark.\n")
    model = {"id": "acme-ai/fixture-shark", "sha": "1" * 40, "tags": [], "siblings": [{"rfilename": "README.md"}]}
    assert hf.basic(model, card)["sameModel"] == [{"kind": SAME_MODELS, "key": "https://bioimage.io/#/artifacts/fixture-shark"}]
    assert p.basic(resource("fixture-legacy"))["sameModel"] == []  # no link: no claim
    # Each side's node, named by a stub until its own source describes it.
    [iri], [(kind, record)] = SHARED_LINKERS[SAME_MODELS]({"kind": SAME_MODELS, "key": "https://bioimage.io/#/artifacts/fixture-shark"}, {})
    assert kind == "stubs" and (record.source, record.identifier, record.id) == ("ai4life", "bioimage-io/fixture-shark", iri)
    [iri], [(kind, record)] = SHARED_LINKERS[SAME_MODELS]({"kind": SAME_MODELS, "key": "https://huggingface.co/acme-ai/vision-det"}, {})
    assert kind == "stubs" and (record.source, record.identifier) == ("huggingface", "acme-ai/vision-det")
    assert SHARED_LINKERS[SAME_MODELS]({"kind": SAME_MODELS, "key": "https://huggingface.co/datasets/acme/x"}, {}) == ([], [])


def test_resources_named_by_an_older_id_or_another_case_are_the_collections_nodes():
    legacy = resource("fixture-legacy")  # training_data and links name the dataset by its description's own id
    assert legacy["collection_ids"]["lab/fixture_cells_training_data"] == {"id": "bioimage-io/fixture-cells", "type": "dataset"}
    assert p.lineage_data(legacy)["trainedOn"] == [{"kind": "datasets", "key": "bioimage-io/fixture-cells"}]
    [iri], _ = LINKERS["datasets"]({"kind": "datasets", "key": "bioimage-io/fixture-cells"}, {})
    assert iri == dict(dataset_records(described("fixture-cells")))["datasets"].id  # the node the collection describes
    related = p.related(legacy)
    assert related["relatedResource"] == [{"kind": "software", "key": "bioimage-io/fixture-viewer"},
                                          {"kind": "datasets", "key": "bioimage-io/fixture-cells"}]
    # A link to nothing of the collection is said; a web address is no resource and is left out.
    assert related[WARNINGS] == [{"what": "links", "reason": "imjoy/BioImageIO-Packager: not a resource of the collection"}]


def test_an_application_a_model_links_to_is_recorded_from_its_own_description():
    viewer = described("fixture-viewer")
    [iri], records = LINKERS["software"]({"kind": "software", "key": viewer["id"]}, extraction.software_summary(viewer))
    (kind, app), (licence_kind, licence) = records
    assert iri == app.id == "https://bioimage.io/#/artifacts/fixture-viewer" and kind == "software"
    assert app.to_jsonld()["@type"] == "SoftwareApplication" and app.name == "Fixture Viewer" and app.version == "0.3.1"
    assert app.code_repository == ["https://github.com/acme-ai/fixture-viewer"] and app.license == [licence.id] == ["https://spdx.org/licenses/MIT"]
    notebook = {**extraction.software_summary(viewer), "type": "notebook"}
    assert LINKERS["software"]({"kind": "software", "key": viewer["id"]}, notebook)[1][0][1].to_jsonld()["@type"] == "SoftwareSourceCode"
    [_], [(kind, _)] = LINKERS["software"]({"kind": "software", "key": "bioimage-io/unread"}, {})
    assert kind == "stubs"  # named by a model, its description unread: a name only


def test_the_documentation_gives_usage_and_a_code_sample_as_a_hub_card_would():
    shark = resource("fixture-shark", documentation=(ZOO / "fixture-shark" / "v0" / "documentation.md").read_text())
    partial = p.documentation(shark)
    assert partial["usageInstructions"].startswith("Open the model in ilastik or deepImageJ")
    assert partial["codeSampleSnippet"] == 'from bioimageio.core import load_description\nmodel = load_description("fixture-shark")'
    assert p.documentation(resource("fixture-shark")) == {}  # no documentation fetched: nothing said
