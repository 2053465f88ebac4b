"""Trims, transitions and cards checked against the planned shot lengths, before any spending.

Every case is refused by ``validate`` with its exact message (exit 2), and ``rdpipe run`` on
the same file exits 2 without sending the simulator a single request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from rdpipe.sim import SimServer
from tests.pipeline.requests import HEAD, TAIL

THREE = "shots:\n  - {id: a, prompt: x}\n  - {id: b, prompt: y}\n  - {id: c, prompt: z}\n"


def _shots(*lines: str) -> str:
    return "shots:\n" + "".join(f"  - {line}\n" for line in lines)


CASES: dict[str, tuple[dict[str, object], str]] = {
    "fade longer than a trimmed middle shot (issue 10)": (
        {
            "sb.yaml": HEAD
            + _shots(
                "{id: a, prompt: x}",
                "{id: b, prompt: y, trim: {start: 1, end: 2}}",
                "{id: c, prompt: z}",
            )
            + "output:\n  transition: {kind: fade, seconds: 3}\n"
        },
        "sb.yaml:6:30: shots[1].trim: shot 'b' keeps 1 s after its trim, too short for the 3 s "
        "fade: it needs more than 3 s (1.5 s fading in and 1.5 s fading out); shorten "
        "output.transition.seconds or keep more of the shot",
    ),
    "fade at the first shot needs only its fade out": (
        {
            "sb.yaml": HEAD
            + _shots("{id: a, prompt: x, trim: {end: 1.5}}", "{id: b, prompt: y}")
            + "output:\n  transition: {kind: fade, seconds: 3}\n"
        },
        "sb.yaml:5:30: shots[0].trim: shot 'a' keeps 1.5 s after its trim, too short for the "
        "3 s fade: it needs more than 1.5 s (1.5 s fading out); shorten "
        "output.transition.seconds or keep more of the shot",
    ),
    "fade at the last shot needs only its fade in": (
        {
            "sb.yaml": HEAD
            + _shots("{id: a, prompt: x}", "{id: b, prompt: y, trim: {start: 3}}")
            + "output:\n  transition: {kind: fade, seconds: 5}\n"
        },
        "sb.yaml:6:30: shots[1].trim: shot 'b' keeps 2 s after its trim, too short for the 5 s "
        "fade: it needs more than 2.5 s (2.5 s fading in); shorten output.transition.seconds "
        "or keep more of the shot",
    ),
    "crossfade longer than an untrimmed middle shot": (
        {
            "sb.yaml": HEAD
            + _shots("{id: a, prompt: x}", "{id: b, prompt: y, seconds: 4}", "{id: c, prompt: z}")
            + "output:\n  transition: {kind: crossfade, seconds: 2.5}\n"
        },
        "sb.yaml:9:42: output.transition.seconds: shot 'b' is 4 s long, too short for the "
        "2.5 s crossfade: it needs more than 5 s (2.5 s blended with the shot before and 2.5 s "
        "blended with the shot after); shorten output.transition.seconds or lengthen the shot",
    ),
    "crossfade at the first shot, its seconds overridden": (
        {
            "sb.yaml": HEAD
            + _shots("{id: a, prompt: x, seconds: 4}", "{id: b, prompt: y, seconds: 6}")
            + "output:\n  transition: {kind: crossfade, seconds: 5}\n"
        },
        "sb.yaml:8:42: output.transition.seconds: shot 'a' is 4 s long, too short for the 5 s "
        "crossfade: it needs more than 5 s (5 s blended with the shot after); shorten "
        "output.transition.seconds or lengthen the shot",
    ),
    "crossfade at the last shot, its seconds from defaults": (
        {
            "sb.yaml": HEAD
            + "defaults: {seconds: 4}\n"
            + _shots("{id: a, prompt: x, seconds: 10}", "{id: b, prompt: y}")
            + "output:\n  transition: {kind: crossfade, seconds: 4.5}\n"
        },
        "sb.yaml:9:42: output.transition.seconds: shot 'b' is 4 s long, too short for the "
        "4.5 s crossfade: it needs more than 4.5 s (4.5 s blended with the shot before); "
        "shorten output.transition.seconds or lengthen the shot",
    ),
    "crossfade against a trimmed shot": (
        {
            "sb.yaml": HEAD
            + _shots("{id: a, prompt: x}", "{id: b, prompt: y, trim: {start: 0.5, end: 1.5}}")
            + "output:\n  transition: {kind: crossfade, seconds: 1}\n"
        },
        "sb.yaml:6:30: shots[1].trim: shot 'b' keeps 1 s after its trim, too short for the 1 s "
        "crossfade: it needs more than 1 s (1 s blended with the shot before); shorten "
        "output.transition.seconds or keep more of the shot",
    ),
    "a shot of several takes is reported once": (
        {
            "sb.yaml": HEAD
            + _shots("{id: a, prompt: x}", "{id: b, prompt: y, takes: 3, trim: {start: 4.5}}")
            + "output:\n  transition: {kind: fade, seconds: 2}\n"
        },
        "sb.yaml:6:40: shots[1].trim: shot 'b' keeps 0.5 s after its trim, too short for the "
        "2 s fade: it needs more than 1 s (1 s fading in); shorten output.transition.seconds "
        "or keep more of the shot",
    ),
    "a shot from an included file is located there": (
        {
            "sb.yaml": HEAD
            + "include: [kit/intro.yaml]\n"
            + _shots("{id: b, prompt: y}")
            + "output:\n  transition: {kind: fade, seconds: 2}\n",
            "kit/intro.yaml": "shots:\n  - id: logo\n    prompt: a logo\n    trim: {end: 0.5}\n",
        },
        "kit/intro.yaml:4:11: shots[0].trim: shot 'logo' keeps 0.5 s after its trim, too short "
        "for the 2 s fade: it needs more than 1 s (1 s fading out); shorten "
        "output.transition.seconds or keep more of the shot",
    ),
    "a transition from an included file is located there": (
        {
            "sb.yaml": HEAD + "include: [kit/look.yaml]\n" + THREE,
            "kit/look.yaml": "output:\n  transition: {kind: crossfade, seconds: 2.5}\n",
        },
        "kit/look.yaml:2:42: output.transition.seconds: shot 'b' is 5 s long, too short for "
        "the 2.5 s crossfade: it needs more than 5 s (2.5 s blended with the shot before and "
        "2.5 s blended with the shot after); shorten output.transition.seconds or lengthen the "
        "shot",
    ),
    "transition longer than the model allows": (
        {"sb.yaml": HEAD + THREE + "output:\n  transition: {kind: fade, seconds: 6}\n"},
        "sb.yaml:9:37: output.transition.seconds: 6 is above the maximum of 5.0",
    ),
    "transition of no length": (
        {"sb.yaml": HEAD + THREE + "output:\n  transition: {kind: crossfade, seconds: 0}\n"},
        "sb.yaml:9:42: output.transition.seconds: 0 must be more than 0.0",
    ),
    "trim ending before it starts": (
        {"sb.yaml": HEAD + _shots("{id: a, prompt: x, trim: {start: 2, end: 1}}")},
        "sb.yaml:5:30: shots[0].trim: trim end (1.0) must be after trim start (2.0)",
    ),
    "trim ending beyond the planned seconds": (
        {"sb.yaml": HEAD + _shots("{id: a, prompt: x, trim: {end: 6}}")},
        "sb.yaml:5:36: shots[0].trim.end: trim ends at 6 s but the shot is only 5 s long",
    ),
    "trim starting beyond the planned seconds": (
        {"sb.yaml": HEAD + _shots("{id: a, prompt: x, seconds: 4, trim: {start: 4}}")},
        "sb.yaml:5:50: shots[0].trim.start: trim starts at 4 s but the shot is only 4 s long",
    ),
    "trim starting before the clip": (
        {"sb.yaml": HEAD + _shots("{id: a, prompt: x, trim: {start: -1}}")},
        "sb.yaml:5:38: shots[0].trim.start: -1 is below the minimum of 0.0",
    ),
    "trim ending at a negative second": (
        {"sb.yaml": HEAD + _shots("{id: a, prompt: x, trim: {end: -1}}")},
        "sb.yaml:5:36: shots[0].trim.end: -1 must be more than 0.0",
    ),
    "trim keeping less than one frame": (
        {"sb.yaml": HEAD + _shots("{id: a, prompt: x, trim: {start: 1, end: 1.02}}")},
        "sb.yaml:5:30: shots[0].trim: trim keeps 0.02 s of the shot, less than one frame at 24 fps",
    ),
    "title card of no length": (
        {"sb.yaml": HEAD + THREE + "output:\n  title_card: {text: Hi, seconds: 0}\n"},
        "sb.yaml:9:35: output.title_card.seconds: 0 must be more than 0.0",
    ),
    "title card shorter than one frame": (
        {"sb.yaml": HEAD + THREE + "output:\n  title_card: {text: Hi, seconds: 0.01}\n"},
        "sb.yaml:9:35: output.title_card.seconds: 0.01 s is less than one frame at 24 fps",
    ),
    "end card longer than the maximum": (
        {"sb.yaml": HEAD + THREE + "output:\n  end_card: {text: Bye, seconds: 31}\n"},
        "sb.yaml:9:34: output.end_card.seconds: 31 is above the maximum of 30.0",
    ),
}


@pytest.fixture
def online(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimServer]:
    """The simulator, reachable as the real API through the environment."""
    monkeypatch.setenv("RELAYDANCE_BASE_URL", sim.base_url)
    monkeypatch.setenv("RELAYDANCE_API_KEY", "sk-sim-test")
    yield sim


@pytest.mark.parametrize("case", list(CASES))
def test_length_rule_refuses_before_sending(
    case: str,
    make_tree: Callable[[dict[str, object]], Path],
    cli: Callable[..., Result],
    online: SimServer,
) -> None:
    """validate gives the exact located message; run exits 2 having sent nothing at all."""
    files, expected = CASES[case]
    make_tree(files)
    validated = cli("validate", "sb.yaml")
    assert (validated.exit_code, validated.stdout) == (2, "")
    assert validated.stderr == "error: " + expected + TAIL
    ran = cli("run", "sb.yaml")
    assert ran.exit_code == 2
    assert expected in ran.stderr
    assert online.counters() == {}


@pytest.mark.parametrize(
    "output",
    [
        "{transition: {kind: cut, seconds: 5}}",
        "{transition: {kind: fade, seconds: 1.9}}",
        "{transition: {kind: crossfade, seconds: 0.9}}",
        "{fps: 30}",
        "{title_card: {text: Hi, seconds: 0.03}, end_card: {text: Bye, seconds: 30}}",
    ],
)
def test_lengths_that_fit_pass(
    output: str, make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """Transitions that fit, a cut of any length, a one-frame trim at 30 fps and cards pass."""
    first = "{start: 1, end: 1.02}" if "fps" in output else "{end: 2}"
    shots = _shots(
        f"{{id: a, prompt: x, trim: {first}}}",
        "{id: b, prompt: y, trim: {start: 3, end: 5}}",
        "{id: c, prompt: z, trim: {start: 4}}",
    )
    make_tree({"sb.yaml": HEAD + shots + f"output: {output}\n"})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "sb.yaml: OK (3 shots)\n"


def test_every_misfit_is_listed_at_once(
    make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """Several shots too short for the fade, a bad trim and a card are reported in one run."""
    make_tree(
        {
            "sb.yaml": HEAD
            + _shots(
                "{id: a, prompt: x, trim: {end: 1}}",
                "{id: b, prompt: y, trim: {end: 7}}",
                "{id: c, prompt: z, trim: {start: 4.5}}",
            )
            + "output:\n  transition: {kind: fade, seconds: 4}\n"
            + "  end_card: {text: Bye, seconds: 0.001}\n"
        }
    )
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    lines = result.stderr.removeprefix("error: ").splitlines()
    assert [line.split(": ")[1] for line in lines[:-1]] == [
        "shots[0].trim",
        "shots[1].trim.end",
        "shots[2].trim",
        "output.end_card.seconds",
    ]
    assert lines[-1] == "4 errors; nothing was sent to the API."
