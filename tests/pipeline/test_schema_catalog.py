"""The pipeline schema carries the catalog: editors complete model ids and flag a typo'd id or
a clip longer than its model makes, where the model in force is named."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from rdpipe.catalog import load_catalog

ROOT = Path(__file__).parents[2]
LIGHTHOUSE = ROOT / "pipelines" / "lighthouse" / "lighthouse.yaml"  # doubao-seedance-2-0-480p


def _problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Each schema violation of ``data`` as (JSON path, message), checked with the committed
    schema file (the one editors read)."""
    schema = json.loads((ROOT / "schemas" / "pipeline.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    found = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [(e.json_path, e.message) for e in found]


@pytest.fixture
def lighthouse() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(LIGHTHOUSE.read_text())
    return copy.deepcopy(data)


def test_the_model_ids_complete_with_their_descriptions() -> None:
    """The top-level model offers every catalog id, each with its limits in words."""
    schema = json.loads((ROOT / "schemas" / "pipeline.schema.json").read_text())
    ids = schema["properties"]["model"]["anyOf"][0]["anyOf"]
    known = [choice for choice in ids if "const" in choice]
    served = ["doubao-seedance-1-0-lite-i2v"]  # served, not in the catalog: accepted
    assert [choice["const"] for choice in known] == [*load_catalog().ids(), *served]
    first = {choice["const"]: choice["description"] for choice in known}
    assert first["doubao-seedance-2-0-480p"] == (
        "seedance-2.0: 4-15 s, 480p, sound as generate_audio says, image, video and audio "
        "references."
    )


def test_sixty_seconds_on_a_model_capped_at_fifteen_is_flagged(
    lighthouse: dict[str, Any],
) -> None:
    """seconds: 60 passes the model's general bound but not doubao-seedance-2-0-480p's 15."""
    lighthouse["shots"][0]["seconds"] = 60
    assert _problems(lighthouse) == [("$.shots[0].seconds", "60 is greater than the maximum of 15")]


def test_defaults_follow_the_top_level_model(lighthouse: dict[str, Any]) -> None:
    """defaults.seconds is held to the top-level model's limits."""
    lighthouse["defaults"]["seconds"] = 2
    assert _problems(lighthouse) == [("$.defaults.seconds", "2 is less than the minimum of 4")]


def test_a_shot_without_a_model_follows_the_defaults_model(lighthouse: dict[str, Any]) -> None:
    """defaults.model rules the shots that name none (Seedance 1.5 pro: at most 12 s), not the
    top-level model (15 s)."""
    lighthouse["defaults"]["model"] = "seedance-1-5-pro-no-audio"
    lighthouse["shots"][1]["seconds"] = 13
    assert _problems(lighthouse) == [("$.shots[1].seconds", "13 is greater than the maximum of 12")]


def test_a_shot_naming_its_model_is_held_to_it(lighthouse: dict[str, Any]) -> None:
    """A shot's own model: its resolution must be one the model offers."""
    lighthouse["shots"][2]["model"] = "doubao-seedance-2-0-720p"
    lighthouse["shots"][2]["resolution"] = "1080p"
    assert _problems(lighthouse) == [
        ("$.shots[2].resolution", "'1080p' is not one of ['720p', None]")
    ]


def test_a_typo_of_a_known_family_is_flagged(lighthouse: dict[str, Any]) -> None:
    """doubao-seedance-2-0-480 (the p missing) is no catalog id and of a family it knows."""
    lighthouse["model"] = "doubao-seedance-2-0-480"
    assert _problems(lighthouse) == [
        ("$.model", "'doubao-seedance-2-0-480' is not valid under any of the given schemas")
    ]


def test_an_id_of_another_family_is_allowed(lighthouse: dict[str, Any]) -> None:
    """An id of a family the catalog lacks passes, as validate lets it pass with a warning."""
    lighthouse["model"] = "kling-v2-1-master"
    assert _problems(lighthouse) == []


@pytest.mark.parametrize(
    "model",
    ["Doubao-seedance-2-0-480p", "DOUBAO-SEEDANCE-2-0-480P", "doubao_seedance_2_0_480p",
     "Seedance-1-5-pro", "SEEDANCE_x"],
)  # fmt: skip
def test_an_id_differing_from_a_family_by_case_or_underscore_is_flagged(
    lighthouse: dict[str, Any], model: str
) -> None:
    """rdpipe compares ids as written: a known family in another case, or with ``_`` for
    ``-``, is no id it knows; the schema flags it (character classes: JSON Schema regexes
    have no case flag)."""
    lighthouse["model"] = model
    assert _problems(lighthouse) == [
        ("$.model", f"{model!r} is not valid under any of the given schemas")
    ]


def test_a_served_id_outside_the_catalog_passes(lighthouse: dict[str, Any]) -> None:
    """doubao-seedance-1-0-lite-i2v is served by RelayDance though rdpipe's catalog has no
    limits for it: validate --online accepts it, and so does the schema."""
    lighthouse["model"] = "doubao-seedance-1-0-lite-i2v"
    lighthouse["defaults"].pop("resolution", None)
    assert _problems(lighthouse) == []


def test_a_draft_model_is_checked_like_a_model(lighthouse: dict[str, Any]) -> None:
    """``draft.model`` completes to the same ids and a typo of a known family is flagged, in
    ``defaults`` and in a shot."""
    lighthouse["defaults"]["draft"] = {"model": "doubao-seedance-2-0-48op"}
    lighthouse["shots"][0]["draft"] = {"model": "doubao-seedance-2-0-480p"}
    assert _problems(lighthouse) == [
        (
            "$.defaults.draft",
            "{'model': 'doubao-seedance-2-0-48op'} is not valid under any of the given schemas",
        )
    ]


def test_retry_without_audio_as_the_one_policy_is_refused(lighthouse: dict[str, Any]) -> None:
    """``on_failure: retry_without_audio`` alone is refused, as validate refuses it; under the
    ``output_audio`` class it is fine."""
    lighthouse["defaults"]["on_failure"] = "retry_without_audio"
    assert [path for path, _ in _problems(lighthouse)] == ["$.defaults.on_failure"]
    lighthouse["defaults"]["on_failure"] = {"output_audio": "retry_without_audio"}
    assert _problems(lighthouse) == []
