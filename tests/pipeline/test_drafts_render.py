"""Drafts, finals and regenerated renditions (issue 17 §1-2): the exact bodies ``plan --json``
shows for each, and the located problems ``validate`` reports."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.pipeline.requests import TAIL, Cli, Tree

HEAD = "version: 1\nname: demo\n"
DRAFTED = HEAD + (
    "model: doubao-seedance-2-0-1080p\n"
    "defaults: {draft: true, takes: 2}\n"
    "shots:\n"
    "  - id: kite\n"
    "    prompt: a red kite over the dunes\n"
    "    ratio: '16:9'\n"
    "    metadata: {camera_fixed: true}\n"
    "    pick: 2\n"
    "  - {id: dog, prompt: a dog, draft: false}\n"
)


def renditions(cli: Cli, *args: str) -> dict[str, dict[str, Any]]:
    """Each job of ``plan --json`` by label (``kite:draft#2``, ``kite``, ``kite:vertical``):
    its rendition, from_take and request body."""
    result = cli("plan", "sb.yaml", "--json", "--offline", *args)
    assert result.exit_code == 0, result.stderr
    shown = {}
    for job in json.loads(result.stdout)["shots"]:
        name = f"{job['id']}:{job['rendition']}" if job["rendition"] else job["id"]
        count = sum(
            1
            for other in json.loads(result.stdout)["shots"]
            if (other["id"], other["rendition"]) == (job["id"], job["rendition"])
        )
        label = name if count == 1 else f"{name}#{job['take']}"
        shown[label] = {"from_take": job["from_take"], "request": job["request"]}
    return shown


def test_drafts_are_the_480p_sku_with_explicit_seeds_and_the_final_takes_the_picked_seed(
    make_tree: Tree, cli: Cli
) -> None:
    """Draft takes: the family's -480p id, every take seeded; the final: the 1080p id with the
    picked draft's seed, prompt and metadata unchanged; a draft: false shot is as before."""
    make_tree({"sb.yaml": DRAFTED})
    shown = renditions(cli)
    assert list(shown) == ["kite:draft#1", "kite:draft#2", "kite", "dog#1", "dog#2"]
    first, second = shown["kite:draft#1"]["request"], shown["kite:draft#2"]["request"]
    seed_1, seed_2 = first["metadata"]["seed"], second["metadata"]["seed"]
    assert seed_1 != seed_2
    assert first == {
        "model": "doubao-seedance-2-0-480p",
        "prompt": "a red kite over the dunes",
        "seconds": "5",
        "metadata": {"ratio": "16:9", "camera_fixed": True, "seed": seed_1},
    }
    assert shown["kite"] == {
        "from_take": 2,
        "request": {
            "model": "doubao-seedance-2-0-1080p",
            "prompt": "a red kite over the dunes",
            "seconds": "5",
            "metadata": {"ratio": "16:9", "camera_fixed": True, "seed": seed_2},
        },
    }
    assert shown["dog#1"] == {
        "from_take": None,
        "request": {"model": "doubao-seedance-2-0-1080p", "prompt": "a dog", "seconds": "5"},
    }


def test_a_draft_false_shot_renders_byte_identically_to_a_file_without_drafts(
    make_tree: Tree, cli: Cli
) -> None:
    make_tree({"sb.yaml": DRAFTED})
    drafted = renditions(cli)
    make_tree({"sb.yaml": DRAFTED.replace("draft: true, ", "")})
    plain = renditions(cli)
    assert drafted["dog#1"] == plain["dog#1"] and drafted["dog#2"] == plain["dog#2"]


def test_changing_the_final_configuration_changes_no_draft(make_tree: Tree, cli: Cli) -> None:
    """The draft seeds are derived from the draft request: a final at 720p keeps every draft."""
    make_tree({"sb.yaml": DRAFTED})
    before = renditions(cli)
    make_tree({"sb.yaml": DRAFTED.replace("-1080p", "-720p")})
    after = renditions(cli)
    assert after["kite:draft#1"] == before["kite:draft#1"]
    assert after["kite:draft#2"] == before["kite:draft#2"]
    assert after["kite"]["request"]["model"] == "doubao-seedance-2-0-720p"
    assert after["kite"]["request"]["metadata"] == before["kite"]["request"]["metadata"]


def test_without_a_pick_a_drafted_shot_has_drafts_only(make_tree: Tree, cli: Cli) -> None:
    make_tree({"sb.yaml": DRAFTED.replace("    pick: 2\n", "")})
    assert list(renditions(cli))[:3] == ["kite:draft#1", "kite:draft#2", "dog#1"]


def test_a_model_with_a_resolution_choice_drafts_at_480p(make_tree: Tree, cli: Cli) -> None:
    """Seedance 1.5 pro: same id, ``resolution: 480p``; a draft mapping's fields apply on top."""
    text = HEAD + (
        "model: seedance-1-5-pro-no-audio\n"
        "shots:\n"
        "  - {id: a, prompt: x, resolution: 1080p, seeds: [7], pick: 1,\n"
        "     draft: {metadata: {watermark: true}}}\n"
    )
    make_tree({"sb.yaml": text})
    shown = renditions(cli)
    assert shown["a:draft"]["request"] == {
        "model": "seedance-1-5-pro-no-audio",
        "prompt": "x",
        "seconds": "5",
        "metadata": {"resolution": "480p", "watermark": True, "seed": 7},
    }
    assert shown["a"]["request"]["metadata"] == {"resolution": "1080p", "seed": 7}


def test_a_draft_resolution_on_seedance_2_names_the_familys_id_of_that_resolution(
    make_tree: Tree, cli: Cli
) -> None:
    """Seedance 2.0 has the resolution in its id: ``draft: {resolution: 720p}`` is the -720p
    id (no resolution field); ``generate_audio`` applies to the drafts only."""
    text = HEAD + (
        "model: doubao-seedance-2-0-1080p\n"
        "shots:\n"
        "  - {id: a, prompt: x, seeds: [5], pick: 1, generate_audio: true,\n"
        "     draft: {resolution: 720p, generate_audio: false}}\n"
    )
    make_tree({"sb.yaml": text})
    shown = renditions(cli)
    assert shown["a:draft"]["request"] == {
        "model": "doubao-seedance-2-0-720p",
        "prompt": "x",
        "seconds": "5",
        "metadata": {"generate_audio": False, "seed": 5},
    }
    assert shown["a"]["request"] == {
        "model": "doubao-seedance-2-0-1080p",
        "prompt": "x",
        "seconds": "5",
        "metadata": {"generate_audio": True, "seed": 5},
    }


def test_a_regenerate_aspect_adds_the_final_at_the_deliverables_ratio(
    make_tree: Tree, cli: Cli
) -> None:
    text = DRAFTED.replace(
        "shots:\n",
        "outputs:\n  - {name: main, ratio: '16:9'}\n  - {name: vertical, ratio: '9:16'}\nshots:\n",
    ).replace("    pick: 2\n", "    pick: 2\n    aspect: {vertical: regenerate}\n")
    make_tree({"sb.yaml": text})
    shown = renditions(cli)
    assert list(shown) == [
        "kite:draft#1", "kite:draft#2", "kite", "kite:vertical", "dog#1", "dog#2"
    ]  # fmt: skip
    final = shown["kite"]["request"]
    assert shown["kite:vertical"] == {
        "from_take": 2,
        "request": {**final, "metadata": {**final["metadata"], "ratio": "9:16"}},
    }


BAD: dict[str, tuple[str, str]] = {
    "no cheaper configuration": (
        "model: mystery-model\ndefaults: {draft: true}\nshots:\n  - {id: a, prompt: x}\n",
        "sb.yaml:4:19: defaults.draft: draft: true: rdpipe knows no cheaper configuration of "
        "mystery-model; write draft: {model: ...}",
    ),
    "draft identical to final": (
        "model: doubao-seedance-2-0-1080p\nshots:\n  - id: a\n    prompt: x\n"
        "    draft: {model: doubao-seedance-2-0-1080p}\n",
        "sb.yaml:7:12: shots[0].draft: the draft request is the final one "
        "(doubao-seedance-2-0-1080p): drafts would cost what finals cost; give draft: a "
        "cheaper model or resolution",
    ),
    "aspect names an unknown deliverable": (
        "model: doubao-seedance-2-0-1080p\nshots:\n  - {id: a, prompt: x, aspect: {square: pad}}\n",
        "sb.yaml:5:41: shots[0].aspect.square: no deliverable named 'square'; the deliverables "
        "are main",
    ),
    "regenerate without a ratio": (
        "model: doubao-seedance-2-0-1080p\noutputs:\n  - {name: main, ratio: '16:9'}\n"
        "  - {name: vertical, aspect: regenerate}\nshots:\n  - {id: a, prompt: x}\n",
        "sb.yaml:6:30: outputs[1].aspect: regenerate needs the ratio to generate at: set ratio: "
        "or size: on deliverable 'vertical'",
    ),
    "pick beyond the draft takes": (
        "model: doubao-seedance-2-0-1080p\nshots:\n"
        "  - {id: b, prompt: x, draft: true, takes: 2, pick: 3}\n",
        "sb.yaml:5:53: shots[0].pick: draft take 3 does not exist: the shot has 2 draft takes",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_validate_locates_each_rendition_problem(make_tree: Tree, cli: Cli, case: str) -> None:
    text, message = BAD[case]
    make_tree({"sb.yaml": HEAD + text})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}{TAIL}"
