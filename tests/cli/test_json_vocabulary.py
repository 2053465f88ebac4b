"""One JSON vocabulary (issue 16 §5): every ``--json`` document has a kind and a version, fits
``schemas/output.schema.json``, says a shot's state in the same word in plan, status and run,
gives paths relative to the pipeline file's folder, and a failure is an ``error`` document."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import Result
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.cli.output_schema import schema_text
from rdpipe.sim import SimServer
from rdpipe.state import ClipStore
from tests.cli_process import PIPELINE, environment, run_rdpipe

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "output.schema.json").read_text(encoding="utf-8"))
BAD = PIPELINE.replace("{id: b, prompt: a blue boat}", "{id: b, prompt: a blue boat, seconds: 99}")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``project/film.yaml``, with the command run from a sibling folder (``work/``), so a path
    relative to the working directory differs from one relative to the pipeline's folder."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "film.yaml").write_text(PIPELINE, encoding="utf-8")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    for name in ("RELAYDANCE_API_KEY", "RELAYDANCE_BASE_URL", "RDPIPE_REMOTE"):
        monkeypatch.delenv(name, raising=False)
    return folder


FILM = "../project/film.yaml"


def rdpipe(*args: str) -> Result:
    if args and args[0] == "run":  # the offline simulator finishes tasks in a second or two
        args = (*args, "--poll-interval", "0.1")
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def documents(result: Result) -> list[dict[str, Any]]:
    """Every document on stdout: one indented document, or JSON lines (``run``)."""
    text = result.stdout.strip()
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines()]


def checked(result: Result, kind: str, exit_code: int = 0) -> list[dict[str, Any]]:
    """The documents of ``result``, each valid against the published schema, the last of
    ``kind`` (``run``'s events before it are ``run.event``)."""
    assert result.exit_code == exit_code, result.stderr
    shown = documents(result)
    for document in shown:
        jsonschema.validate(document, SCHEMA)
        assert document["version"] == 1
    assert shown[-1]["kind"] == kind
    return shown


def strings(value: object) -> Iterator[str]:
    """Every string inside a document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def states(document: dict[str, Any]) -> dict[str, str]:
    return {shot["id"]: shot["status"] for shot in document["shots"]}


def test_the_published_schema_is_the_generated_one() -> None:
    """``schemas/output.schema.json`` is what the code generates (rerun the generator when not)."""
    assert (ROOT / "schemas" / "output.schema.json").read_text(encoding="utf-8") == schema_text()


def test_every_command_prints_documents_of_the_schema(project: Path, tmp_path: Path) -> None:
    """validate, plan, status, run, cost, balance, models and assets print documents of their
    kind that fit the schema, with no absolute path in any of them."""
    shown = [
        *checked(rdpipe("validate", FILM, "--json"), "validate"),
        *checked(rdpipe("plan", FILM, "--offline", "--json"), "plan"),
        *checked(rdpipe("status", FILM, "--offline", "--json"), "status"),
        *checked(rdpipe("run", FILM, "--offline", "--json"), "run.summary"),
        *checked(rdpipe("cost", FILM, "--offline", "--json"), "cost"),
        *checked(rdpipe("balance", "--offline", "--json"), "balance"),
        *checked(rdpipe("models", "--offline", "--json"), "models"),
        *checked(rdpipe("assets", "../project", "--offline", "--json"), "assets"),
    ]
    kinds = {document["kind"] for document in shown}
    assert "run.event" in kinds
    leaked = [text for document in shown for text in strings(document) if str(tmp_path) in text]
    assert leaked == []


def test_a_shot_has_one_state_word_in_plan_status_and_run(project: Path) -> None:
    """Before a run plan and status say ``to generate``; the run's events end ``done``; then
    plan, status, the rerun's events and its summary all say ``cached``."""
    before = {"a": "to generate", "b": "to generate"}
    assert states(checked(rdpipe("plan", FILM, "--offline", "--json"), "plan")[0]) == before
    assert states(checked(rdpipe("status", FILM, "--offline", "--json"), "status")[0]) == before
    first = checked(rdpipe("run", FILM, "--offline", "--json"), "run.summary")
    last_event = {event["id"]: event["status"] for event in first[:-1]}
    assert last_event == states(first[-1]) == {"a": "done", "b": "done"}
    assert [shot["outcome"] for shot in first[-1]["shots"]] == ["succeeded", "succeeded"]

    cached = {"a": "cached", "b": "cached"}
    assert states(checked(rdpipe("plan", FILM, "--offline", "--json"), "plan")[0]) == cached
    assert states(checked(rdpipe("status", FILM, "--offline", "--json"), "status")[0]) == cached
    again = checked(rdpipe("run", FILM, "--offline", "--json"), "run.summary")
    assert {event["id"]: event["status"] for event in again[:-1]} == cached
    assert states(again[-1]) == cached
    assert [shot["action"] for shot in rdpipe_plan_shots()] == ["reuse", "reuse"]


def rdpipe_plan_shots() -> list[dict[str, Any]]:
    shots: list[dict[str, Any]] = json.loads(rdpipe("plan", FILM, "--offline", "--json").stdout)[
        "shots"
    ]
    return shots


def test_paths_are_relative_to_the_pipeline_folder(project: Path) -> None:
    """The video, each clip (in events, the summary, status, and plan's and status's reasons)
    and the lock file are named from the pipeline's folder with ``/``, whatever the working
    directory; each names the file."""
    run = checked(rdpipe("run", FILM, "--offline", "--json"), "run.summary")
    summary = run[-1]
    assert summary["output"] == "out/offline/film.mp4"
    assert (project / summary["output"]).is_file()
    clips = [shot["clip"] for shot in summary["shots"]]
    assert [clip.rsplit("/", 1)[0] for clip in clips] == [
        "out/offline/clips/a",
        "out/offline/clips/b",
    ]
    assert all((project / clip).is_file() for clip in clips)
    done = [event["clip"] for event in run[:-1] if event["status"] == "done"]
    assert sorted(done) == sorted(clips)
    status = checked(rdpipe("status", FILM, "--offline", "--json"), "status")[0]
    assert [shot["clip"] for shot in status["shots"]] == clips
    # A cached clip's reason names the same path as ``clip`` (not one relative to out/).
    assert [shot["reason"] for shot in status["shots"]] == [f"cached clip {c}" for c in clips]
    plan = checked(rdpipe("plan", FILM, "--offline", "--json"), "plan")[0]
    assert [shot["reason"] for shot in plan["shots"]] == [f"cached clip {c}" for c in clips]
    cost = checked(rdpipe("cost", FILM, "--offline", "--json"), "cost")[0]
    assert cost["lock_file"] is None  # offline previews keep no lock file


def error_of(result: Result) -> dict[str, Any]:
    """The ``error`` document ending stdout, checked against the schema; the human text is
    still on stderr, and the document's message is that text."""
    [*_, shown] = checked(result, "error", exit_code=result.exit_code)
    error: dict[str, Any] = shown["error"]
    assert result.stderr.startswith("error: ")
    assert error["message"] in result.stderr
    return error


@pytest.mark.parametrize(
    "command",
    [("plan", "--offline"), ("status", "--offline"), ("run", "--offline")],
    ids=["plan", "status", "run"],
)
def test_a_bad_file_is_an_error_document(project: Path, command: tuple[str, ...]) -> None:
    """A pipeline breaking a rule exits 2 with an ``error`` document on stdout naming the code,
    the file (from the pipeline's folder), the line and the field."""
    (project / "film.yaml").write_text(BAD, encoding="utf-8")
    verb, *options = command
    result = rdpipe(verb, FILM, *options, "--json")
    assert result.exit_code == 2
    error = error_of(result)
    assert {key: error[key] for key in ("code", "exit_code", "file", "line", "field")} == {
        "code": "pipeline_invalid",
        "exit_code": 2,
        "file": "film.yaml",
        "line": 7,
        "field": "shots[1].seconds",
    }
    [diagnostic] = error["diagnostics"]
    message = diagnostic.pop("message")
    assert diagnostic == {"file": "film.yaml", "line": 7, "column": 43,
                          "field": "shots[1].seconds", "severity": "error"}  # fmt: skip
    assert f"film.yaml:7:43: shots[1].seconds: {message}\n" in result.stderr


def test_a_missing_file_is_an_error_document(project: Path) -> None:
    """A file that does not exist is a usage error: exit 2, code ``usage_error``, no place."""
    result = rdpipe("plan", "../project/none.yaml", "--offline", "--json")
    assert result.exit_code == 2
    error = error_of(result)
    assert (error["code"], error["file"], error["line"], error["field"]) == (
        "usage_error", None, None, None,
    )  # fmt: skip
    assert error["message"] == "../project/none.yaml: no such pipeline file"


def test_validate_json_reports_each_file(project: Path) -> None:
    """``validate --json`` gives each file as named on the command line, with its errors placed
    from its own folder; exit 2 when one has an error, and no separate error document."""
    (project / "bad.yaml").write_text(BAD, encoding="utf-8")
    result = rdpipe("validate", FILM, "../project/bad.yaml", "--json")
    [shown] = checked(result, "validate", exit_code=2)
    assert shown["ok"] is False
    assert [(f["pipeline"], f["ok"], f["shots"]) for f in shown["files"]] == [
        ("../project/film.yaml", True, 2),
        ("../project/bad.yaml", False, None),
    ]
    assert [(d["file"], d["line"], d["field"]) for d in shown["files"][1]["errors"]] == [
        ("bad.yaml", 7, "shots[1].seconds")
    ]
    [error] = shown["files"][1]["errors"]
    assert f"bad.yaml:7:43: shots[1].seconds: {error['message']}\n" in result.stderr


def test_human_output_is_unchanged_without_json(project: Path) -> None:
    """Without --json a failing command prints nothing on stdout: the error is on stderr."""
    (project / "film.yaml").write_text(BAD, encoding="utf-8")
    result = rdpipe("plan", FILM, "--offline")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("error: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plan", "../project/none.yaml"), "../project/none.yaml: no such pipeline file"),
        (
            ("assets", "../nowhere", "--offline"),
            "Invalid value for PATH: ../nowhere does not exist",
        ),
    ],
    ids=["plan", "assets"],
)
def test_a_usage_error_in_any_command_is_an_error_document(
    project: Path, args: tuple[str, ...], message: str
) -> None:
    """A missing file or folder is a usage error under --json too: exit 2 and an ``error``
    document with code ``usage_error`` and the message stderr gives. (``validate`` says a
    missing file in its own document, beside the files it could check.)"""
    result = rdpipe(*args, "--json")
    assert result.exit_code == 2
    [shown] = checked(result, "error", exit_code=2)
    error = shown["error"]
    assert (error["code"], error["message"], error["exit_code"]) == ("usage_error", message, 2)
    assert message in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "message", "field"),
    [
        (("run", FILM, "--json", "--bogus"), {}, "No such option: --bogus", "--bogus"),
        (
            ("run", FILM, "--json", "-j", "0"),
            {},
            "--concurrency 0 is not valid: give a whole number from 1 to 256",
            "--concurrency",
        ),
        (
            ("run", FILM, "--json", "--max-cost", "abc"),
            {},
            "Invalid value for '--max-cost': 'abc' is not an amount: write a number, like 20 "
            "or 7.5, with no currency sign (it is in the account's display currency)",
            "--max-cost",
        ),
        (
            ("run", FILM, "--json"),
            {"RDPIPE_CONCURRENCY": "abc"},
            "RDPIPE_CONCURRENCY=abc is not valid (for --concurrency): give a whole number from 1 "
            "to 256",
            "--concurrency",
        ),
        (("validate", "--json"), {}, "Missing argument 'FILE'.", "FILE"),
        (("run", "--json"), {}, "Missing argument 'FILE'.", "FILE"),
    ],
    ids=[
        "unknown-option",
        "zero-jobs",
        "bad-max-cost",
        "bad-env-var",
        "validate-no-file",
        "run-no-file",
    ],
)
def test_a_usage_error_click_finds_while_parsing_is_an_error_document(
    project: Path,
    tmp_path: Path,
    args: tuple[str, ...],
    env: dict[str, str],
    message: str,
    field: str,
) -> None:
    """A usage error click raises before any command body runs, through the real entry point:
    stdout is exactly one ``error`` document (schema-valid, code ``usage_error``, exit code 2,
    ``field`` the option or argument), and click's usual text is still on stderr; exit 2."""
    done = run_rdpipe(*args, cwd=Path.cwd(), env=environment(tmp_path, env))
    assert done.returncode == 2
    assert done.stdout.count("\n") == 1  # one line: one document
    shown = json.loads(done.stdout)
    jsonschema.validate(shown, SCHEMA)
    assert shown["kind"] == "error"
    assert shown["error"] == {
        "code": "usage_error", "message": message, "exit_code": 2,
        "file": None, "line": None, "field": field, "diagnostics": [], "crash_log": None,
    }  # fmt: skip
    assert shown["errors"] == [shown["error"]]
    assert done.stderr.startswith(f"Usage: rdpipe {args[0]} [OPTIONS] FILE")
    assert done.stderr.endswith(f"\nError: {message}\n")


def test_a_usage_error_without_json_leaves_stdout_empty(project: Path) -> None:
    """Without --json (or with it only after ``--``, as an argument), stdout stays empty."""
    for args in (("run", FILM, "--bogus"), ("plan", FILM, "--offline", "--", "--json")):
        result = rdpipe(*args)
        assert (result.exit_code, result.stdout) == (2, "")
        assert "Error: " in result.stderr


def test_a_usage_error_a_command_body_raises_is_one_document(project: Path) -> None:
    """``-q`` with ``-v`` (the callback's own check) under --json: one document, not two."""
    result = rdpipe("-q", "-v", "plan", FILM, "--offline", "--json")
    [shown] = checked(result, "error", exit_code=2)
    assert (shown["error"]["message"], shown["error"]["field"]) == (
        "Invalid value for -q/-v: choose one of --quiet and --verbose", "-q/-v",
    )  # fmt: skip


def test_validate_json_says_the_model_ids_were_checked_against_the_catalog(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``validate --online`` with the server unreachable is still ok, and the document says the
    ids were checked against the catalog only, with the note stderr gives; without --online it
    says ``catalog`` with no note."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free a moment ago: nothing listens
    monkeypatch.setenv("RELAYDANCE_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("RELAYDANCE_API_KEY", "sk-sim-test")
    [shown] = checked(rdpipe("validate", FILM, "--online", "--json"), "validate")
    note = (
        f"the model list could not be read from 127.0.0.1:{port} (could not reach RelayDance "
        "for GET /v1/models: connection refused); model ids were "
        "checked against rdpipe's catalog only"
    )
    assert (shown["ok"], shown["models_checked"], shown["models_note"]) == (True, "catalog", note)
    [plain] = checked(rdpipe("validate", FILM, "--json"), "validate")
    assert (plain["models_checked"], plain["models_note"]) == ("catalog", None)


def test_validate_json_says_the_model_ids_were_checked_online(
    project: Path, sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``validate --online`` against the simulator: ``models_checked`` is ``online``."""
    monkeypatch.setenv("RELAYDANCE_BASE_URL", sim.base_url)
    monkeypatch.setenv("RELAYDANCE_API_KEY", "sk-sim-test")
    [shown] = checked(rdpipe("validate", FILM, "--online", "--json"), "validate")
    assert (shown["ok"], shown["models_checked"], shown["models_note"]) == (True, "online", None)


def test_validate_json_marks_a_fragment_and_its_includer(project: Path) -> None:
    """A fragment's entry says ``fragment`` and ``included_by`` (from the fragment's folder, as
    the text output says it; a list: every includer); a pipeline's says ``false`` and ``[]``."""
    (project / "kit").mkdir()
    (project / "kit" / "look.yaml").write_text("vars: {look: dusk}\n", encoding="utf-8")
    (project / "film.yaml").write_text(
        PIPELINE.replace("name: film\n", "name: film\ninclude: [kit/look.yaml]\n"),
        encoding="utf-8",
    )
    [shown] = checked(rdpipe("validate", FILM, "../project/kit/look.yaml", "--json"), "validate")
    assert [
        (f["pipeline"], f["ok"], f["shots"], f["fragment"], f["included_by"])
        for f in shown["files"]
    ] == [
        ("../project/film.yaml", True, 2, False, []),
        ("../project/kit/look.yaml", True, 0, True, ["../film.yaml"]),
    ]
    text = rdpipe("validate", FILM, "../project/kit/look.yaml")
    assert "../project/kit/look.yaml: fragment (included by ../film.yaml): OK\n" in text.stdout


def test_a_crash_under_json_names_its_log_in_the_error_document(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug under --json: exit 1, an ``error`` document whose message is the paragraph stderr
    gives, and ``crash_log``: from the pipeline's folder for a run's log (in its .rdpipe/), the
    absolute path of one in the user's cache folder (plan keeps no state)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("disk gremlin")

    monkeypatch.setattr(ClipStore, "adopt", broken)
    ran = rdpipe("run", FILM, "--offline", "--json")
    [*_, shown] = checked(ran, "error", exit_code=1)
    error = shown["error"]
    assert (error["code"], error["exit_code"]) == ("crash_report", 1)
    assert ran.stderr.endswith(f"\nerror: {error['message']}\n")
    assert error["crash_log"].startswith(".rdpipe/crash-")
    found = re.search(r"The details are in (\S+); please", error["message"])
    assert found is not None
    assert Path(found.group(1)).resolve() == (project / error["crash_log"]).resolve()
    assert (project / error["crash_log"]).is_file()

    monkeypatch.setattr("rdpipe.cli.pipeline_commands.plan_as_stored", broken)
    planned = rdpipe("plan", FILM, "--offline", "--json")
    error = error_of(planned)
    log = Path(error["crash_log"])
    assert (log.is_absolute(), log.parent) == (True, tmp_path / "cache" / "rdpipe")
    assert log.is_file() and f"The details are in {log}; " in error["message"]
