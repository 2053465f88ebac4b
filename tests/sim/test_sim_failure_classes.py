"""Failure classes (issue 15): a prompt marker makes one task fail with one class, as every
form of the task shows it; the audio filter spares a request without audio."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from rdpipe.sim import FAILURE_CLASSES, Faults, SimServer
from tests.sim.simclient import submit, wait_final


def _forms(api: httpx.Client, task_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The finished task's video object and envelope ``data``."""
    video = wait_final(api, task_id)
    return video, api.get(f"/v1/video/generations/{task_id}").json()["data"]


@pytest.mark.parametrize(
    ("name", "code", "message", "upstream_status"),
    [
        ("input_refused", "InputTextSensitiveContentDetected",
         "The request failed because the input text may contain sensitive information.",
         "failed"),
        ("output_audio", "OutputAudioSensitiveContentDetected",
         "The request failed because the output audio may contain sensitive information.",
         "failed"),
        ("output_video", "OutputVideoSensitiveContentDetected",
         "The request failed because the output video may contain sensitive information.",
         "failed"),
        ("transient", "InternalServiceError",
         "The service encountered an unexpected internal error.", "failed"),
        ("expired", "TaskExpired",
         "The task expired before it finished (execution_expires_after).", "expired"),
    ],
)  # fmt: skip
def test_a_marker_fails_its_task_with_its_class(
    api: httpx.Client, sim: SimServer, name: str, code: str, message: str, upstream_status: str
) -> None:
    """The marked task fails in every form (video object error, envelope FAILURE with the
    reason and quota 0, the raw upstream status and error); an unmarked one completes."""
    sim.faults = Faults(failure_markers={"[x]": name})
    marked = submit(api, prompt="a red kite [x]")
    plain = submit(api, prompt="a red kite")
    video, envelope = _forms(api, marked)
    assert (video["status"], video["error"]) == ("failed", {"message": message, "code": code})
    assert (envelope["status"], envelope["fail_reason"], envelope["quota"]) == (
        "FAILURE", message, 0,
    )  # fmt: skip
    upstream = envelope["data"]
    assert (upstream["status"], upstream["error"]) == (
        upstream_status, {"code": code, "message": message},
    )  # fmt: skip
    assert wait_final(api, plain)["status"] == "completed"
    assert FAILURE_CLASSES[name] == code


@pytest.mark.parametrize(("generate_audio", "status"), [(None, "failed"), (True, "failed"),
                                                         (False, "completed")])  # fmt: skip
def test_the_audio_filter_spares_a_request_without_audio(
    api: httpx.Client, sim: SimServer, generate_audio: bool | None, status: str
) -> None:
    """output_audio fails a request whose generate_audio is absent or true; the retry with
    generate_audio false succeeds (with a marker and with failure_code alike)."""
    metadata = {} if generate_audio is None else {"generate_audio": generate_audio}
    sim.faults = Faults(failure_markers={"[noisy]": "output_audio"})
    marked = submit(api, prompt="a kite [noisy]", metadata=metadata)
    assert wait_final(api, marked)["status"] == status
    sim.faults = Faults(task_failure_rate=1.0, failure_code="OutputAudioSensitiveContentDetected")
    drawn = submit(api, prompt="a kite", metadata=metadata)
    assert wait_final(api, drawn)["status"] == status


def test_failures_per_marker_lets_later_tasks_pass(api: httpx.Client, sim: SimServer) -> None:
    """With failures_per_marker 1, the first marked task fails and the next one succeeds:
    the retry of a transient failure can pass."""
    sim.faults = Faults(failure_markers={"[flaky]": "transient"}, failures_per_marker=1)
    first = submit(api, prompt="a kite [flaky]")
    second = submit(api, prompt="a kite [flaky]")
    assert wait_final(api, first)["error"]["code"] == "InternalServiceError"
    assert wait_final(api, second)["status"] == "completed"


def test_markers_choose_per_prompt_and_override_the_rate(api: httpx.Client, sim: SimServer) -> None:
    """Two markers fail two shots two ways (the first marker found wins); they fail whatever
    task_failure_rate says, and an unknown name is taken as an upstream code."""
    sim.faults = Faults(
        failure_markers={"[a]": "expired", "[b]": "InputImageSensitiveContentDetected"},
        task_failure_rate=0.0,
    )
    expired = submit(api, prompt="one [a] [b]")
    refused = submit(api, prompt="two [b]")
    assert wait_final(api, expired)["error"]["code"] == "TaskExpired"
    assert wait_final(api, refused)["error"] == {
        "message": "The request failed because the input image may contain sensitive information.",
        "code": "InputImageSensitiveContentDetected",
    }


def test_failure_code_takes_a_class_name(api: httpx.Client, sim: SimServer) -> None:
    """Faults.failure_code accepts a class name: ``expired`` fails expired upstream."""
    sim.faults = Faults(task_failure_rate=1.0, failure_code="expired")
    video, envelope = _forms(api, submit(api))
    assert (video["error"]["code"], envelope["data"]["status"]) == ("TaskExpired", "expired")


@pytest.mark.parametrize(
    "arguments",
    [{"failure_markers": {"": "expired"}}, {"failure_markers": {"[x]": ""}},
     {"failures_per_marker": -1}],
)  # fmt: skip
def test_bad_markers_are_refused(arguments: dict[str, Any]) -> None:
    """An empty marker or failure, or a negative count, is refused."""
    with pytest.raises(ValueError):
        Faults(**arguments)


def test_account_routes_meet_faults_only_when_named(plain: httpx.Client, sim: SimServer) -> None:
    """Faults aimed at every endpoint spare the account's routes; named, they hit them."""
    pricing = f"{sim.base_url}/api/pricing"
    sim.faults = Faults(server_error_rate=1.0)
    assert plain.get(pricing).status_code == 200
    sim.faults = Faults(server_error_rate=1.0, endpoints=frozenset({"pricing"}))
    assert plain.get(pricing).status_code >= 500
    assert plain.get(f"{sim.base_url}/api/status").status_code == 200
