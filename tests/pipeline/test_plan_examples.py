"""``rdpipe plan --json`` on the shipped examples yields request bodies that match the API."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

EXAMPLES = sorted(
    p for p in (Path(__file__).parents[2] / "pipelines").glob("*/*.yaml") if p.name != "brand.yaml"
)
ROLE_OF_TYPE = {
    "image_url": {"reference_image", "first_frame", "last_frame"},
    "video_url": {"reference_video"},
    "audio_url": {"reference_audio"},
}


def plan_json(cli: Callable[..., Result], path: Path) -> dict[str, Any]:
    result = cli("plan", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_there_are_three_examples() -> None:
    """The repository ships a text-only film, a reference-image teaser and a continuity piece."""
    assert {p.parent.name for p in EXAMPLES} >= {"lighthouse", "product-teaser", "continuity"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_requests_match_the_contract(path: Path, cli: Callable[..., Result]) -> None:
    """seconds is a string, callback_url sits in metadata, content is typed and roled."""
    plan = plan_json(cli, path)
    assert plan["shots"], "an example without shots"
    for shot in plan["shots"]:
        request = shot["request"]
        assert set(request) <= {"model", "prompt", "seconds", "metadata"}
        assert isinstance(request["seconds"], str) and request["seconds"].isdigit()
        assert "callback_url" not in request
        for entry in request.get("metadata", {}).get("content", []):
            assert entry["role"] in ROLE_OF_TYPE[entry["type"]]
            assert set(entry) == {"type", entry["type"], "role"}
            url = entry[entry["type"]]["url"]
            assert url.startswith(("https://", "http://", "data:image/", "<last frame of"))


def test_citations_follow_content_order(cli: Callable[..., Result]) -> None:
    """ref() renders @imageN in metadata.content order, and each data URL holds the file."""
    folder = Path(__file__).parents[2] / "pipelines" / "product-teaser"
    plan = plan_json(cli, folder / "teaser.yaml")
    sting = next(s for s in plan["shots"] if s["id"] == "sting")
    prompt = sting["request"]["prompt"]
    assert re.findall(r"@image\d", prompt) == ["@image1", "@image2"]
    urls = [e["image_url"]["url"] for e in sting["request"]["metadata"]["content"]]
    bottle = (folder / "refs" / "bottle.png").read_bytes()
    logo = (folder / "refs" / "logo.png").read_bytes()
    assert urls == [
        "data:image/png;base64," + base64.b64encode(bottle).decode(),
        "data:image/png;base64," + base64.b64encode(logo).decode(),
    ]


def test_totals_count_generations_and_seconds(cli: Callable[..., Result]) -> None:
    """The totals give generations and billed seconds per model."""
    path = Path(__file__).parents[2] / "pipelines" / "lighthouse" / "lighthouse.yaml"
    plan = plan_json(cli, path)
    seconds = sum(int(s["request"]["seconds"]) for s in plan["shots"])
    assert plan["totals"]["generations"] == len(plan["shots"]) == 4
    assert plan["totals"]["billed_seconds"] == seconds == 18
    assert plan["totals"]["by_model"] == {
        "doubao-seedance-2-0-480p": {"generations": 4, "billed_seconds": 18}
    }


def test_callback_url_goes_inside_metadata(
    make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """A callback_url set in defaults is sent inside metadata, never at the top level."""
    make_tree(
        {
            "sb.yaml": "version: 1\nname: d\nmodel: doubao-seedance-2-0-720p\n"
            "defaults: {callback_url: 'https://hooks.example.com/{{ shot.id }}'}\n"
            "shots:\n  - {id: a, prompt: x}\n"
        }
    )
    plan = plan_json(cli, Path("sb.yaml"))
    request = plan["shots"][0]["request"]
    assert request == {
        "model": "doubao-seedance-2-0-720p",
        "prompt": "x",
        "seconds": "5",
        "metadata": {"callback_url": "https://hooks.example.com/a"},
    }


def test_human_plan_shortens_data_urls(cli: Callable[..., Result]) -> None:
    """On screen, data URLs are abbreviated with their length; the totals table is printed."""
    path = Path(__file__).parents[2] / "pipelines" / "product-teaser" / "teaser.yaml"
    result = cli("plan", str(path))
    assert result.exit_code == 0
    assert '"url": "data:image/png;base64,... (' in result.stdout
    assert "iVBORw0KGgo" not in result.stdout
    assert re.search(r"total\s+│\s+3\s+│\s+13", result.stdout)
