"""The JSON Schema in schemas/ is current, and the examples carry the editor modeline."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from rdpipe.schema import schema_text

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
