"""Older zoo descriptions (formats 0.2 and 0.3, in their real shapes: the spec's own example of
UNet 2D Nuclei Broad as written in 0.3.2, and what 0.3.0/0.3.1 descriptions left out) are read by
the spec's library after the repairs its converters leave out; what still cannot be read is left out
with a note; a rejection names the field; no date is invented."""

from __future__ import annotations

import copy

import pytest
import yaml

from mlentory.sources.bioimageio import extraction
from mlentory.sources.bioimageio import properties as p

SOURCE = "https://zenodo.org/api/records/5764892/files/rdf.yaml/content"
# The spec's example in format 0.3.2 (spec-bioimage-io, example_specs/models/unet2d_nuclei_broad/rdf_v0_3_2.yaml),
# without its timestamp, with its weights' ``parent`` written as the parent's file (0.3), a citation's
# DOI as a link, and one preprocessing step written alone.
UNET_0_3_2 = """
format_version: 0.3.2
type: model
name: UNet 2D Nuclei Broad
description: A 2d U-Net trained on the nuclei broad dataset.
authors:
  - name: "Constantin Pape;@bioimage-io"
    affiliation: "EMBL Heidelberg"
cite:
  - text: "Ronneberger, Olaf et al. U-net: Convolutional networks for biomedical image segmentation. MICCAI 2015."
    doi: https://doi.org/10.1007/978-3-319-24574-4_28
git_repo: https://github.com/bioimage-io/spec-bioimage-io/tree/main/example_specs/models/unet2d_nuclei_broad
tags: [unet2d, pytorch, nucleus, segmentation, dsb2018]
license: MIT
documentation: README.md
covers: [cover0.png]
attachments: {}
inputs:
  - name: raw
    description: raw input
    axes: bcyx
    data_type: float32
    data_range: [-.inf, .inf]
    shape: [1, 1, 512, 512]
    preprocessing:
      name: zero_mean_unit_variance
      kwargs: {mode: per_sample, axes: yx}
outputs:
  - name: probability
    description: probability in [0,1]
    axes: bcyx
    data_type: float32
    data_range: [-.inf, .inf]
    halo: [0, 0, 32, 32]
    shape: {reference_input: raw, scale: [1.0, 1.0, 1.0, 1.0], offset: [0.0, 0.0, 0.0, 0.0]}
language: python
framework: pytorch
source: unet2d.py:UNet2d
sha256: cf42a6d86adeb4eb6e8e37b539a20e5413866b183bed88f4e2e26ad1639761ed
kwargs: {input_channels: 1, output_channels: 1}
dependencies: conda:environment.yaml
test_inputs: [test_input.npy]
test_outputs: [test_output.npy]
sample_inputs: [test_input.npy]
sample_outputs: [test_output.npy]
weights:
  pytorch_state_dict:
    sha256: e4d3885bccbe41cbf6c1d825f3cd2b707c7021ead5593156007e407a16b27cf2
    source: https://zenodo.org/record/3446812/files/unet2d_weights.torch
  onnx:
    sha256: 5bf14c4e65e8601ab551db99409ba7981ff0e501719bc2b0ee625ca9a9375b32
    source: ./weights.onnx
    opset_version: 12
    parent: https://zenodo.org/record/3446812/files/unet2d_weights.torch
"""


def unet() -> dict:
    return yaml.safe_load(UNET_0_3_2)


def test_a_0_3_description_is_converted_after_the_repairs_and_no_date_is_invented():
    description, notes = extraction.validated(unet(), SOURCE)
    assert description["type"] == "model" and description["format_version"].startswith("0.5")
    assert "timestamp" not in description  # the library's 0.5 format would have taken the harvest time
    assert any("weights.onnx.parent" in note and "(pytorch_state_dict)" in note for note in notes)
    assert any("cite.0.doi" in note for note in notes) and any("preprocessing" in note for note in notes)
    resource = {"id": "bioimage-io/unet2d", "type": "model", "version": "v0", "source": SOURCE, "created_at": None, "description": description}
    basic = p.basic(resource)
    assert basic["dateCreated"] is None
    assert basic["readme"] == "https://zenodo.org/api/records/5764892/files/README.md/content"
    assert basic["image"] == ["https://zenodo.org/api/records/5764892/files/cover0.png/content"]


def test_a_description_without_a_type_that_has_weights_inputs_and_outputs_is_a_model():
    content = unet()
    del content["type"]
    content["timestamp"] = "2019-12-11T12:22:32Z"
    description, notes = extraction.validated(content, SOURCE)
    assert description["type"] == "model" and description["timestamp"].startswith("2019-12-11T12:22:32")
    assert any("without a type" in note for note in notes)


def test_a_weights_entry_the_library_cannot_read_is_left_out_where_others_remain():
    content = unet()
    content["weights"]["pickle"] = {"source": "./model.pkl", "sha256": "0" * 64}
    description, notes = extraction.validated(content, SOURCE)
    assert set(description["weights"]) >= {"pytorch_state_dict"} and "pickle" not in description["weights"]
    assert any(note.startswith("weights.pickle") for note in notes)
    only_pickle = unet()
    only_pickle["weights"] = {"pickle": {"source": "./model.pkl", "sha256": "0" * 64}}
    with pytest.raises(extraction.Rejected, match=r"weights"):
        extraction.validated(only_pickle, SOURCE)


def test_a_rejection_names_the_field_and_a_collection_says_what_it_is():
    broken = unet()
    broken["inputs"][0]["data_type"] = "complex-number"
    broken["weights"] = {"pytorch_state_dict": copy.deepcopy(unet()["weights"]["pytorch_state_dict"])}
    with pytest.raises(extraction.Rejected) as rejected:
        extraction.validated(broken, SOURCE)
    assert "inputs.0.data_type" in str(rejected.value) and "validation error for" not in str(rejected.value)
    collection = {"format_version": "0.2.2", "type": "collection", "name": "UNet 2D Nuclei Broad", "description": "a collection",
                  "collection": [{"id": "unet2d", "source": "./rdf.yaml"}]}
    with pytest.raises(extraction.Rejected, match=r"a collection \(format 0\.2\.2\), not a resource"):
        extraction.validated(collection, SOURCE)


def test_documentation_and_covers_of_a_description_read_in_its_own_format_survive():
    resource = {"id": "bioimage-io/x", "type": "model", "version": "v0", "source": SOURCE, "created_at": None,
                "description": {"type": "model", "format_version": "0.4.10", "name": "x", "documentation": "README.md", "covers": ["cover.png"]}}
    basic = p.basic(resource)
    assert basic["readme"] == "https://zenodo.org/api/records/5764892/files/README.md/content"
    assert basic["image"] == ["https://zenodo.org/api/records/5764892/files/cover.png/content"]
