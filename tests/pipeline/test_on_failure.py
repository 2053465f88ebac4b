"""``on_failure:`` in a file: its errors at file:line, its resolution per shot, and that it is
never part of a request or its cache key."""

from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from rdpipe.failure_codes import FailureClass, FailurePolicy
from rdpipe.model.on_failure import (
    DEFAULT_POLICIES,
    FAILURE_CLASS_NAMES,
    POLICY_NAMES,
    FailureClassName,
    PolicyName,
)
from rdpipe.plan import plan_run
from rdpipe.prepare.pipeline import prepare_pipeline
from tests.pipeline.requests import HEAD, TAIL

Tree = Callable[[dict[str, object]], Path]


def _file(defaults: str | None, shot: str | None = None) -> str:
    text = HEAD
    if defaults is not None:
        text += f"defaults:\n  on_failure: {defaults}\n"
    text += "shots:\n  - id: a\n    prompt: x\n"
    if shot is not None:
        text += f"    on_failure: {shot}\n"
    return text + "  - id: b\n    prompt: y\n"


ERRORS = {
    "unknown policy": (
        "retyr",
        "sb.yaml:5:15: defaults.on_failure: unknown policy 'retyr'; did you mean 'retry'? "
        "(policies: retry, retry_without_audio, fail, skip, stop)",
    ),
    "unknown class": (
        "{outpt_audio: skip}",
        "sb.yaml:5:16: defaults.on_failure.outpt_audio: unknown key 'outpt_audio'; did you mean "
        "'output_audio'?",
    ),
    "unknown policy of a class": (
        "{output_audio: skp}",
        "sb.yaml:5:30: defaults.on_failure.output_audio: unknown policy 'skp'; did you mean "
        "'skip'? (policies: retry, retry_without_audio, fail, skip, stop)",
    ),
    "retry on input_refused": (
        "{input_refused: retry}",
        "sb.yaml:5:31: defaults.on_failure.input_refused: 'retry' is not allowed for "
        "input_refused: a refused prompt or reference is refused again, so it is never "
        "resubmitted; use fail, skip or stop",
    ),
    "retry_without_audio for every class": (
        "retry_without_audio",
        "sb.yaml:5:15: defaults.on_failure: retry_without_audio concerns the output_audio "
        "class only: write on_failure: {output_audio: retry_without_audio}",
    ),
    "retry_without_audio on the picture": (
        "{output_video: retry_without_audio}",
        "sb.yaml:5:30: defaults.on_failure.output_video: retry_without_audio is for "
        "output_audio only (the sound was refused); use retry here",
    ),
    "neither a name nor a mapping": (
        "3",
        "sb.yaml:5:15: defaults.on_failure: expected a policy name (retry, "
        "retry_without_audio, fail, skip, stop) or a mapping by class (input_refused, "
        "output_audio, output_video, transient, expired), got 3",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_a_bad_on_failure_is_one_located_message(
    case: str, make_tree: Tree, cli: Callable[..., Result]
) -> None:
    written, expected = ERRORS[case]
    make_tree({"sb.yaml": _file(written)})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == "error: " + expected + TAIL


def test_a_shot_with_a_bad_on_failure_is_located_at_its_line(
    make_tree: Tree, cli: Callable[..., Result]
) -> None:
    make_tree({"sb.yaml": _file(None, "{input_refused: retry_without_audio}")})
    result = cli("validate", "sb.yaml")
    assert result.stderr.startswith(
        "error: sb.yaml:7:33: shots[0].on_failure.input_refused: 'retry_without_audio' is not "
        "allowed for input_refused"
    )


def _policies(path: Path) -> dict[str, dict[FailureClassName, PolicyName]]:
    return {shot.id: dict(shot.on_failure) for shot in prepare_pipeline(path).shots}


def test_policies_resolve_class_by_class(make_tree: Tree) -> None:
    """rdpipe's defaults, then ``defaults:``, then the shot's, class by class; one name sets
    every class, but ``retry`` never the input refusal."""
    make_tree({"sb.yaml": _file("{output_audio: skip, expired: stop}", "retry")})
    policies = _policies(Path("sb.yaml"))
    assert policies["b"] == {**DEFAULT_POLICIES, "output_audio": "skip", "expired": "stop"}
    assert policies["a"] == {
        "input_refused": "fail",
        "output_audio": "retry",
        "output_video": "retry",
        "transient": "retry",
        "expired": "retry",
    }
    make_tree({"sb.yaml": _file("skip", "{transient: fail}")})
    policies = _policies(Path("sb.yaml"))
    assert policies["a"] == {name: "skip" for name in FAILURE_CLASS_NAMES} | {"transient": "fail"}
    assert policies["b"] == {name: "skip" for name in FAILURE_CLASS_NAMES}


def test_the_defaults_without_on_failure(make_tree: Tree) -> None:
    make_tree({"sb.yaml": _file(None)})
    assert _policies(Path("sb.yaml"))["a"] == {
        "input_refused": "fail",
        "output_audio": "retry_without_audio",
        "output_video": "retry",
        "transient": "retry",
        "expired": "retry",
    }


def test_on_failure_is_no_part_of_the_request_or_its_key(make_tree: Tree) -> None:
    """Changing a shot's policies sends the same request, so its clip stays cached."""
    make_tree({"sb.yaml": _file(None)})
    before = prepare_pipeline(Path("sb.yaml"))
    make_tree({"sb.yaml": _file("skip", "{output_audio: stop}")})
    after = prepare_pipeline(Path("sb.yaml"))
    assert [s.request.body for s in before.shots] == [s.request.body for s in after.shots]
    keys = [job.key for job in plan_run("demo", before.shots).jobs]
    assert keys == [job.key for job in plan_run("demo", after.shots).jobs]
    assert dict(before.shots[0].on_failure) != dict(after.shots[0].on_failure)


def test_the_enums_spell_the_files_names() -> None:
    """FailureClass and FailurePolicy are the names on_failure: accepts, in the same order."""
    assert tuple(FailureClass) == FAILURE_CLASS_NAMES == typing.get_args(FailureClassName)
    assert tuple(FailurePolicy) == POLICY_NAMES == typing.get_args(PolicyName)
