"""A bad key or base URL stops at once (exit 2, nothing sent, the key never shown); a request
that cannot even be built is "never sent", not "outcome unknown"."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from rdpipe.client import ApiKey, ClientConfig, RelayDanceClient, RequestNotBuilt, RetryPolicy
from rdpipe.sim import SimServer
from tests.cli_process import environment, files_holding, run_rdpipe, write_pipeline

NEWLINE_KEY = "sk-newline123456\nX"
KEY_HINT = (
    "An API key is one word of printable ASCII characters (keys look like sk-...); nothing was "
    "sent, and the key is not shown here.\nSet it again with the key alone (export "
    "RELAYDANCE_API_KEY=sk-...), or run with --offline to use the built-in simulator.\n"
)
# The client's own checks switched off, to reach what the HTTP library does with such a key.
WITHOUT_KEY_CHECK = (
    "import sys, rdpipe.client.config as c; c.check_api_key = lambda key: None; "
    "sys.argv[0] = 'rdpipe'; from rdpipe.entry import main; main()"
)


def test_a_key_with_a_line_break_stops_the_run_before_anything_is_sent(
    sim: SimServer, tmp_path: Path
) -> None:
    """Exit 2 with one paragraph that names the character, not the key; nothing is recorded as
    possibly billed, so the rerun with the right key needs no --resubmit-unknown."""
    project = tmp_path / "project"
    write_pipeline(project)
    env = environment(tmp_path / "cache", {"RELAYDANCE_BASE_URL": sim.base_url})
    bad = run_rdpipe(
        "run", "film.yaml", cwd=project, env={**env, "RELAYDANCE_API_KEY": NEWLINE_KEY}
    )
    assert bad.returncode == 2, bad.stderr
    assert bad.stderr == (
        "error: RELAYDANCE_API_KEY is not a usable API key: it contains a line break at "
        f"character 17. {KEY_HINT}"
    )
    assert "newline123456" not in bad.stdout + bad.stderr
    assert files_holding(tmp_path, "newline123456") == []
    assert sim.counters().get("POST /v1/video/generations", 0) == 0

    good = run_rdpipe(
        "run", "film.yaml", "--poll-interval", "0.1", cwd=project,
        env={**env, "RELAYDANCE_API_KEY": "sk-sim-test"},
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert (project / "out" / "film.mp4").is_file()


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("sk-two words", "a space at character 7"),
        ("sk-tab\there", "a tab at character 7"),
        ("sk-caf\u00e9-key", "a character outside printable ASCII at character 7"),
        ("sk-bell\x07key", "a control character at character 8"),
        ("sk-return\rkey", "a carriage return at character 10"),
    ],
)
def test_every_command_that_reads_the_key_refuses_one_no_header_can_carry(
    tmp_path: Path, key: str, problem: str
) -> None:
    """Whitespace inside, a control character or non-ASCII text: exit 2, the key not echoed."""
    env = environment(tmp_path / "cache", {"RELAYDANCE_API_KEY": f"  {key}\n"})
    result = run_rdpipe("models", cwd=tmp_path, env=env)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: RELAYDANCE_API_KEY is not a usable API key: it contains {problem}. {KEY_HINT}"
    )


def test_a_request_the_http_library_refuses_to_build_is_never_sent_and_never_unknown(
    sim: SimServer, tmp_path: Path
) -> None:
    """With the key check off, h11 refuses the header: every shot is 'refused, nothing was sent'
    (not 'unknown, may be billed') in the journal, the manifest and the output, with the key
    redacted everywhere, and the rerun needs no --resubmit-unknown."""
    project = tmp_path / "project"
    write_pipeline(project)
    env = environment(
        tmp_path / "cache",
        {"RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": NEWLINE_KEY},
    )
    command = [sys.executable, "-c", WITHOUT_KEY_CHECK, "run", "film.yaml", "--json"]
    result = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=90
    )
    reason = (
        "rdpipe could not build the request POST /v1/video/generations: "
        "Illegal header value b'Bearer [API key]'; nothing was sent."
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.endswith(
        f"error: the run stopped: {reason}\nCheck RELAYDANCE_API_KEY and RELAYDANCE_BASE_URL, "
        "then run again. No task was left in flight; `rdpipe run film.yaml` starts the run "
        "again.\n"
    )
    *events, error = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["status"] for e in events] == ["submitting", "submitting", "failed", "failed"]
    assert (error["kind"], error["error"]["code"]) == ("error", "run_aborted")
    assert {e.get("message") for e in events[2:]} == {reason}
    assert "newline123456" not in result.stdout + result.stderr
    assert files_holding(tmp_path, "newline123456") == []
    with sqlite3.connect(project / ".rdpipe" / "state.db") as db:
        outcomes = db.execute("SELECT outcome, reason FROM intents").fetchall()
    assert outcomes == [("refused", reason)] * 2
    manifest = json.loads((project / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert "unknown" not in {shot["status"] for shot in manifest["shots"]}
    assert sim.counters().get("POST /v1/video/generations", 0) == 0

    env["RELAYDANCE_API_KEY"] = "sk-sim-test"
    rerun = run_rdpipe("run", "film.yaml", "--poll-interval", "0.1", cwd=project, env=env)
    assert rerun.returncode == 0, rerun.stderr


@pytest.mark.anyio
async def test_a_request_that_cannot_be_built_raises_not_built_once_without_a_retry(
    sim: SimServer,
) -> None:
    """The client's own classification, over a real socket to the simulator: no retry, no POST,
    and the refused header shows as [API key]."""
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    config = ClientConfig(ApiKey(NEWLINE_KEY), sim.base_url, retry=RetryPolicy(attempts=4))
    async with RelayDanceClient(config, sleep=sleep) as client:
        with pytest.raises(RequestNotBuilt) as caught:
            with anyio.fail_after(10):
                await client.submit(b'{"model":"m","prompt":"p","seconds":"4"}')
    assert caught.value.message == (
        "rdpipe could not build the request POST /v1/video/generations: "
        "Illegal header value b'Bearer [API key]'; nothing was sent."
    )
    assert sleeps == []
    assert sim.counters().get("POST /v1/video/generations", 0) == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "ftp://relaydance.com",
            "RELAYDANCE_BASE_URL is not an http(s) URL: 'ftp://relaydance.com'; nothing was sent.",
        ),
        (
            "https://relaydance.com/my api",
            "RELAYDANCE_BASE_URL is not a usable API address ('https://relaydance.com/my api'): "
            "it contains a space at character 26; nothing was sent.",
        ),
        (
            "https://user:hunter22@relaydance.com",
            "RELAYDANCE_BASE_URL is not a usable API address ('https://***@relaydance.com'): it "
            "carries a user name or password; the key goes in RELAYDANCE_API_KEY; nothing was "
            "sent.",
        ),
        (
            "https://relaydance.com/v1/video/generations",
            "RELAYDANCE_BASE_URL is not a usable API address "
            "('https://relaydance.com/v1/video/generations'): it names an API path; give the "
            "address in front of /v1, rdpipe adds the rest; nothing was sent.",
        ),
        (
            "https://[::1",
            "RELAYDANCE_BASE_URL is not a usable API address ('https://[::1'): its host or port "
            "cannot be read (Invalid IPv6 URL); nothing was sent.",
        ),
    ],
)
def test_a_base_url_rdpipe_cannot_use_exits_2_with_one_clear_paragraph(
    tmp_path: Path, value: str, message: str
) -> None:
    """Not http(s), a space in the path, credentials, an endpoint or a broken host: exit 2."""
    env = environment(
        tmp_path / "cache", {"RELAYDANCE_API_KEY": "sk-valid-key-123", "RELAYDANCE_BASE_URL": value}
    )
    result = run_rdpipe("models", cwd=tmp_path, env=env)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {message}\nUnset it to use https://relaydance.com, or set it like "
        "https://relaydance.com.\n"
    )
    assert "hunter22" not in result.stderr


@pytest.mark.parametrize("suffix", ["/v1", "/v1/", "/"])
def test_a_base_url_ending_in_v1_reaches_the_same_api(
    sim: SimServer, tmp_path: Path, suffix: str
) -> None:
    """The OpenAI-style base (".../v1") works: rdpipe adds /v1 itself, never twice."""
    env = environment(
        tmp_path / "cache",
        {"RELAYDANCE_API_KEY": "sk-sim-test", "RELAYDANCE_BASE_URL": sim.base_url + suffix},
    )
    result = run_rdpipe("models", "--json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert sim.counters() == {"GET /v1/models": 1}
