"""What ``rdpipe validate`` says about drafts and deliverables written wrongly (issue 17): one
located message per mistake, naming the field the user wrote, with the exit code."""

from __future__ import annotations

import json
import re

import av
import pytest

from tests.pipeline.requests import TAIL, Cli, Tree

HEAD = "version: 1\nname: demo\n"


def _drafted(model: str, defaults: str = "", shot: str = "", tail: str = "") -> str:
    """A one-shot storyboard on ``model`` (16:9, 4 s, with audio); ``defaults`` and ``shot``
    are extra lines of flow mapping (``draft: ...``), ``tail`` more top-level lines."""
    return HEAD + (
        f"model: {model}\n"
        "defaults:\n"
        "  seconds: 4\n"
        "  ratio: '16:9'\n"
        "  generate_audio: true\n" + (f"  {defaults}\n" if defaults else "") + "shots:\n"
        "  - id: kite\n"
        "    prompt: a red kite\n" + (f"    {shot}\n" if shot else "") + tail
    )


@pytest.mark.parametrize(
    ("written", "where", "shown"),
    [
        ("defaults", "sb.yaml:8:10: defaults.draft", "'yes please'"),
        ("shot", "sb.yaml:11:12: shots[0].draft", "3"),
        ("shot", "sb.yaml:11:12: shots[0].draft", "a list"),
    ],
)
def test_a_draft_neither_boolean_nor_mapping_is_one_error_naming_both_forms(
    written: str, where: str, shown: str, make_tree: Tree, cli: Cli
) -> None:
    """``draft: yes please`` (or 3, or a list) is one error listing true, false and the
    mapping's keys, not one error per member of the union."""
    value = {"'yes please'": "yes please", "3": "3", "a list": "[1]"}[shown]
    line = f"draft: {value}"
    make_tree({"sb.yaml": _drafted("doubao-seedance-2-0-720p", **{written: line})})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {where}: expected true, false or a mapping (model, resolution, "
        f"generate_audio, metadata), got {shown}" + TAIL
    )


def test_a_yaml_1_1_boolean_draft_says_it_is_text(make_tree: Tree, cli: Cli) -> None:
    """``draft: yes`` is text in YAML 1.2: one error that says so."""
    make_tree({"sb.yaml": _drafted("doubao-seedance-2-0-720p", shot="draft: yes")})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: sb.yaml:11:12: shots[0].draft: expected true, false or a mapping (model, "
        "resolution, generate_audio, metadata), got 'yes' ('yes' is text in YAML 1.2; write "
        "true or false)" + TAIL
    )


def test_a_misspelt_draft_key_gets_a_did_you_mean(make_tree: Tree, cli: Cli) -> None:
    """A draft mapping's unknown key is the one error, with the close key of DraftSpec."""
    make_tree({"sb.yaml": _drafted("doubao-seedance-2-0-720p", shot="draft: {modle: x}")})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: sb.yaml:11:13: shots[0].draft.modle: unknown key 'modle'; did you mean "
        "'model'?" + TAIL
    )


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        ("0x0", "0x0"),
        ("1080X1920", "'1080X1920'"),
        ("1081x1920", "'1081x1920'"),
        ("20000x1080", "'20000x1080'"),
    ],
)
def test_a_bad_deliverable_size_gets_the_size_rule(
    size: str, shown: str, make_tree: Tree, cli: Cli
) -> None:
    """A size of the wrong form, odd or too large is one message saying what a size is
    (not that it is a bad name): 0x0, as YAML reads a number, is shown as written."""
    outputs = f"outputs:\n  - name: feed\n    size: {size}\n"
    make_tree({"sb.yaml": _drafted("doubao-seedance-2-0-720p", tail=outputs)})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: sb.yaml:13:11: outputs[0].size: {shown} is not a frame size: size must be "
        "WIDTHxHEIGHT in pixels, each 2 to 16384 and even, e.g. 1080x1920" + TAIL
    )


def test_deliverable_names_say_they_start_with_a_letter(make_tree: Tree, cli: Cli) -> None:
    """A deliverable named 9x16 (and a shot's aspect: key so named) is told the first
    character is the problem and what the name is for."""
    outputs = "outputs:\n  - name: 9x16\n    ratio: '9:16'\n"
    make_tree(
        {"sb.yaml": _drafted("doubao-seedance-2-0-720p", shot="aspect: {9x16: pad}", tail=outputs)}
    )
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: sb.yaml:11:14: shots[0].aspect.9x16: '9x16' is not a valid name: use letters, "
        "digits, '-' and '_', starting with a letter or '_' (at most 64; a deliverable's "
        "name)\n"
        "sb.yaml:13:11: outputs[0].name: '9x16' is not a valid name: use letters, digits, "
        "'-' and '_', starting with a letter or '_' (at most 64; it names the deliverable's "
        "file and is used in shots' aspect:)\n"
        "2 errors; nothing was sent to the API.\n"
    )


def test_an_unknown_draft_model_is_warned_of_at_its_own_line(make_tree: Tree, cli: Cli) -> None:
    """``defaults.draft: {model: veo-3}``: the catalog warning names defaults.draft.model at
    its line (not the final's model:), and says the family cannot be told; exit 0."""
    make_tree({"sb.yaml": _drafted("doubao-seedance-2-0-720p", "draft: {model: veo-3}")})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 0
    assert result.stderr == (
        "sb.yaml:8:18: defaults.draft.model: warning: rdpipe cannot tell whether veo-3 is of "
        "the family of the final doubao-seedance-2-0-720p (veo-3 is not in its catalog): a "
        "draft's seed reproduces the picture only on the same model family\n"
        "sb.yaml:8:18: defaults.draft.model: warning: model 'veo-3' is not in rdpipe's catalog "
        "(new models appear over time) (used by shot kite)\n"
    )
    assert result.stdout == "sb.yaml: OK (1 shot)\n"


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("seedance-1-5-pro-with-audio", "seedance-1.5-pro"),
        ("doubao-seedance-1-0-pro", "seedance-1.0"),
    ],
)
def test_a_draft_model_of_another_family_is_an_error_at_the_draft(
    model: str, family: str, make_tree: Tree, cli: Cli
) -> None:
    """A draft on another family than the final's is one error at shots[0].draft.model saying
    the seed would not reproduce the picture, naming the final family's models; no message
    about the final's generate_audio."""
    make_tree({"sb.yaml": _drafted("doubao-seedance-2-0-720p", shot=f"draft: {{model: {model}}}")})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: sb.yaml:11:20: shots[0].draft.model: {model} is a {family} model and the "
        "final doubao-seedance-2-0-720p a seedance-2.0 one: a draft's seed reproduces the "
        "picture only on the same model family; draft on a seedance-2.0 model "
        "(doubao-seedance-2-0-480p, doubao-seedance-2-0-1080p)" + TAIL
    )


def test_a_draft_on_a_no_audio_model_sends_no_generate_audio(make_tree: Tree, cli: Cli) -> None:
    """A -with-audio final drafted on the -no-audio model validates, and the draft body
    carries no generate_audio while the final's does."""
    make_tree(
        {
            "sb.yaml": _drafted(
                "seedance-1-5-pro-with-audio",
                "draft: {model: seedance-1-5-pro-no-audio}",
                shot="pick: 1",
            )
        }
    )
    result = cli("validate", "sb.yaml")
    assert (result.exit_code, result.stderr) == (0, "")
    plan = cli("plan", "sb.yaml", "--json", "--offline")
    jobs = {job["rendition"]: job["request"] for job in json.loads(plan.stdout)["shots"]}
    seed = jobs["draft"]["metadata"]["seed"]
    assert jobs["draft"] == {
        "model": "seedance-1-5-pro-no-audio",
        "prompt": "a red kite",
        "seconds": "4",
        "metadata": {"ratio": "16:9", "seed": seed},
    }
    assert jobs[""]["metadata"] == {"ratio": "16:9", "generate_audio": True, "seed": seed}


def test_a_draft_asking_sound_of_a_no_audio_model_is_an_error_at_its_own_field(
    make_tree: Tree, cli: Cli
) -> None:
    """``draft: {model: ...-no-audio, generate_audio: true}`` is the error at
    defaults.draft.generate_audio, telling to leave it out (not to change the final)."""
    draft = "draft: {model: seedance-1-5-pro-no-audio, generate_audio: true}"
    make_tree({"sb.yaml": _drafted("seedance-1-5-pro-with-audio", draft)})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: sb.yaml:8:61: defaults.draft.generate_audio: seedance-1-5-pro-no-audio never "
        "has audio, so its drafts cannot be made with generate_audio: true; leave "
        "generate_audio out of the draft" + TAIL
    )


def test_regenerating_at_a_size_of_a_shape_the_api_lacks_says_which_shape(
    make_tree: Tree, cli: Cli
) -> None:
    """``size: 1080x1350, aspect: regenerate``: the size is 4:5, which the API cannot
    generate; the message lists the ratios it can and the ways out (reframe, pad, a size of
    such a ratio), at outputs[0].aspect, before any pick, starting 'error:' like all others."""
    outputs = "outputs:\n  - name: feed\n    size: 1080x1350\n    aspect: regenerate\n"
    make_tree({"sb.yaml": _drafted("doubao-seedance-2-0-720p", "draft: true", tail=outputs)})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: sb.yaml:15:13: outputs[0].aspect: 1080x1350 is 4:5, which the API cannot "
        "generate (it generates 16:9, 9:16, 1:1, 4:3, 3:4, 21:9): use aspect: reframe or pad "
        "for deliverable 'feed', or a size of one of those ratios (closest: 3:4, 1080x1440)" + TAIL
    )


def test_a_shot_regenerating_for_a_deliverable_without_ratio_is_told_where_to_set_it(
    make_tree: Tree, cli: Cli
) -> None:
    """A shot's ``aspect: {feed: regenerate}`` for a deliverable with neither ratio nor size:
    the error at the shot's key, in lower case as every other error."""
    outputs = "outputs:\n  - name: feed\n"
    make_tree(
        {
            "sb.yaml": _drafted(
                "doubao-seedance-2-0-720p", shot="aspect: {feed: regenerate}", tail=outputs
            )
        }
    )
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: sb.yaml:11:20: shots[0].aspect.feed: regenerate needs the ratio to generate at: "
        "set ratio: or size: on deliverable 'feed'" + TAIL
    )


#: One 9:16 deliverable that regenerates every shot (the storyboard is 16:9).
VERTICAL_ONLY = "outputs:\n  - name: feed\n    size: 1080x1920\n    aspect: regenerate\n"


def _stages(cli: Cli) -> list[tuple[str, str | None, str, int]]:
    """``plan --json``'s totals.by_stage as (stage, deliverable, run, generations)."""
    result = cli("plan", "sb.yaml", "--json", "--offline")
    assert result.exit_code == 0, result.stderr
    stages = json.loads(result.stdout)["totals"]["by_stage"]
    return [(s["stage"], s["deliverable"], s["run"], s["generations"]) for s in stages]


def test_a_drafted_final_no_deliverable_shows_is_not_planned(make_tree: Tree, cli: Cli) -> None:
    """16:9 drafts, one 9:16 deliverable regenerating the shot: before the pick the next run
    plans the regeneration only; once picked, the jobs are the draft and the regeneration
    (from the picked draft's seed), no final; validate says nothing."""
    make_tree({"sb.yaml": _drafted("doubao-seedance-2-0-720p", "draft: true", tail=VERTICAL_ONLY)})
    assert _stages(cli) == [("drafts", None, "this", 1), ("regenerations", "feed", "next", 1)]
    make_tree(
        {
            "sb.yaml": _drafted(
                "doubao-seedance-2-0-720p", "draft: true", shot="pick: 1", tail=VERTICAL_ONLY
            )
        }
    )
    result = cli("validate", "sb.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "sb.yaml: OK (1 shot)\n", "")
    assert _stages(cli) == [("drafts", None, "this", 1), ("regenerations", "feed", "this", 1)]
    jobs = json.loads(cli("plan", "sb.yaml", "--json", "--offline").stdout)["shots"]
    assert [(job["rendition"], job["from_take"]) for job in jobs] == [("draft", None), ("feed", 1)]
    assert jobs[1]["request"]["metadata"]["seed"] == jobs[0]["request"]["metadata"]["seed"]
    assert jobs[1]["request"]["metadata"]["ratio"] == "9:16"


def test_a_final_another_shot_continues_from_is_kept(make_tree: Tree, cli: Cli) -> None:
    """The same, but shot dog starts from kite's last frame: kite's final is still made."""
    dog = "  - {id: dog, prompt: a dog, first_frame: {shot: kite}, draft: false}\n"
    make_tree(
        {
            "sb.yaml": _drafted(
                "doubao-seedance-2-0-720p",
                "draft: true",
                shot="pick: 1",
                tail=dog + VERTICAL_ONLY,
            )
        }
    )
    jobs = json.loads(cli("plan", "sb.yaml", "--json", "--offline").stdout)["shots"]
    assert [(job["id"], job["rendition"]) for job in jobs] == [
        ("kite", "draft"),
        ("kite", ""),
        ("kite", "feed"),
        ("dog", ""),
        ("dog", "feed"),
    ]


def test_an_undrafted_clip_no_deliverable_shows_is_a_warning_at_the_shot(
    make_tree: Tree, cli: Cli
) -> None:
    """Without drafts the storyboard clip is still made (it is the shot's take), and validate
    warns at the shot that no deliverable shows it, suggesting the deliverable's ratio."""
    make_tree({"sb.yaml": _drafted("doubao-seedance-2-0-720p", tail=VERTICAL_ONLY)})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 0
    assert result.stderr == (
        "sb.yaml:9:5: shots[0]: warning: shot kite's clip at 16:9 is used by no deliverable "
        "(each regenerates it: feed at 9:16), yet it is generated and paid for; set ratio: "
        "'9:16' on the shot to generate it at that ratio in the first place\n"
    )
    assert _stages(cli) == [("finals", None, "this", 1), ("regenerations", "feed", "this", 1)]


def test_the_deliverable_shows_the_regenerated_clip_when_no_final_was_made(
    make_tree: Tree, cli: Cli
) -> None:
    """An offline run of the picked storyboard above: two submits (draft, regeneration), the
    1080x1920 feed video is made of the 9:16 regenerated clip (its timeline names that
    720x1280 clip), with no 'reframed instead' note."""
    root = make_tree(
        {
            "sb.yaml": _drafted(
                "doubao-seedance-2-0-720p", "draft: true", shot="pick: 1", tail=VERTICAL_ONLY
            )
        }
    )
    result = cli("run", "sb.yaml", "--offline")
    assert result.exit_code == 0, result.stderr
    assert "2 submitted" in result.stdout
    assert "reframed instead" not in result.stdout + result.stderr
    folder = root / "out" / "offline"
    with av.open(str(folder / "feed.mp4")) as video:
        assert (video.streams.video[0].width, video.streams.video[0].height) == (1080, 1920)
    timeline = (folder / "feed.otio").read_text(encoding="utf-8")
    urls = set(re.findall(r'"target_url": "file://([^"]+)"', timeline))
    assert len(urls) == 1
    with av.open(urls.pop()) as clip:
        assert (clip.streams.video[0].width, clip.streams.video[0].height) == (720, 1280)
    review = cli("review", "sb.yaml", "--offline", "--no-open")
    assert review.exit_code == 0, review.stderr
    page = (folder / "review.html").read_text(encoding="utf-8")
    assert "1 draft take: 1 done; regenerated for feed: done" in page
    assert "awaits a pick" not in page
