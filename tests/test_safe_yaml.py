"""YAML from sources through libyaml: the alias check, and YAML 1.2 documents read with the core
schema's scalar rules, as ruyaml's pure-Python safe loader (the former reader) reads them."""

from __future__ import annotations

import pytest
import yaml
from ruyaml import YAML

from mlentory import safe_yaml

SCALARS = ["no", "yes", "on", "TRUE", "false", "010", "0o17", "0x1F", "1_000", "+12", "-0", "1:30", ".5", "1.", "1e3", "12e",
           "+.inf", ".NaN", "~", "null", "Null", "", "2019-12-11", "2019-12-11T12:22:32Z", "2019-12-11T12:22:32+02:00",
           "2019-12-11 12:22:32.5", "v0.4.9", "1.0.0", "0.4"]


def test_libyaml_reads_the_sources_yaml():
    assert yaml.__with_libyaml__  # the C parser is there: PyYAML's wheels carry it
    assert issubclass(safe_yaml.SafeLoader, yaml.CSafeLoader) and issubclass(safe_yaml.CoreSchemaLoader, yaml.CSafeLoader)


@pytest.mark.parametrize("scalar", SCALARS)
def test_yaml_1_2_scalars_read_as_ruyaml_reads_them(scalar):
    text = f"value: {scalar}\nlisted: [{scalar or '~'}]\n"
    expected = YAML(typ="safe", pure=True).load(text)
    got = safe_yaml.load(text, 1_000, yaml_1_2=True)
    assert repr(got) == repr(expected)


def test_aliases_are_refused_and_a_star_in_text_is_not_an_alias():
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    with pytest.raises(safe_yaml.RefusedYaml, match="aliases"):
        safe_yaml.load(bomb, 1_000)
    assert safe_yaml.refusal("title: '**bold** * star'\nglob: '*.md'\n", 1_000) is None
    assert safe_yaml.load("anchored: &a 1\n", 1_000) == {"anchored": 1}  # an anchor alone expands nothing
    assert safe_yaml.refusal("x" * 2_000, 1_000).startswith("document of 2,000 characters refused")
