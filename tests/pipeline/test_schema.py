"""The JSON Schema in schemas/ is current, and the examples carry the editor modeline."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from rdpipe.schema import fragment_schema_text, schema_text

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted(p for p in (ROOT / "pipelines").glob("*/*.yaml") if p.name != "brand.yaml")


def test_schema_file_is_current() -> None:
    """schemas/pipeline.schema.json equals what the model generates (run `rdpipe schema -o`)."""
    assert (ROOT / "schemas" / "pipeline.schema.json").read_text() == schema_text()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_examples_validate_against_the_schema(path: Path) -> None:
    """Every example passes the JSON Schema an editor would check it with."""
    schema = json.loads(schema_text())
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(path.read_text()))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_examples_carry_the_modeline(path: Path) -> None:
    """Examples start with the yaml-language-server modeline pointing at the schema."""
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schemas/pipeline.schema.json"
    assert (path.parent / "../../schemas/pipeline.schema.json").resolve().is_file()


def test_schema_command_prints_the_schema(cli) -> None:  # type: ignore[no-untyped-def]
    """`rdpipe schema` prints the same text."""
    result = cli("schema")
    assert result.exit_code == 0
    assert result.stdout == schema_text()


def test_fragment_schema_file_is_current_and_requires_nothing() -> None:
    """schemas/fragment.schema.json is generated: the pipeline's keys, none required."""
    text = (ROOT / "schemas" / "fragment.schema.json").read_text()
    assert text == fragment_schema_text()
    schema = json.loads(text)
    assert "required" not in schema
    assert schema["properties"].keys() == json.loads(schema_text())["properties"].keys()


def test_the_brand_kit_fragment_passes_its_schema_and_names_it() -> None:
    """The example's included brand kit names the fragment schema in its modeline and passes
    it (it fails the pipeline schema: no version, name or shots), while a typo'd model id in
    a fragment is still flagged."""
    brand = ROOT / "pipelines" / "product-teaser" / "brand.yaml"
    first = brand.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schemas/fragment.schema.json"
    validator = jsonschema.Draft202012Validator(json.loads(fragment_schema_text()))
    data = yaml.safe_load(brand.read_text())
    assert list(validator.iter_errors(data)) == []
    data["defaults"] = {"model": "doubao_seedance_2_0_480p"}
    assert [e.json_path for e in validator.iter_errors(data)] == ["$.defaults.model"]


def test_schema_command_prints_the_fragment_schema(cli) -> None:  # type: ignore[no-untyped-def]
    """`rdpipe schema --fragment` prints schemas/fragment.schema.json."""
    result = cli("schema", "--fragment")
    assert (result.exit_code, result.stdout) == (0, fragment_schema_text())
