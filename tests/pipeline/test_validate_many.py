"""`rdpipe validate pipelines/*/*.yaml`, the obvious CI line: a file another pipeline includes
is checked as a fragment, and only such a file, so a broken pipeline is never excused."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import Result

from rdpipe.sim import SimServer
from tests.cli_process import environment
from tests.conftest import SIM_API_KEY

ROOT = Path(__file__).parents[2]
TreeMaker = Callable[[dict[str, object]], Path]
PIPELINE = """version: 1
name: film
include: [kit.yaml]
model: doubao-seedance-2-0-480p
shots:
  - {id: a, prompt: "{{ look }}"}
"""


def test_the_ci_line_passes_on_the_examples(tmp_path: Path) -> None:
    """From the repository root, the shell's glob over the examples: every pipeline OK, the
    brand kit a fragment included by teaser.yaml, exit 0."""
    command = f"{shlex.quote(sys.executable)} -m rdpipe validate pipelines/*/*.yaml"
    done = subprocess.run(
        command, shell=True, cwd=ROOT, env=environment(tmp_path), text=True,
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "pipelines/continuity/continuity.yaml: OK (2 shots)\n"
        "pipelines/lighthouse/lighthouse.yaml: OK (4 shots)\n"
        "pipelines/product-teaser/brand.yaml: fragment (included by teaser.yaml): OK\n"
        "pipelines/product-teaser/teaser.yaml: OK (3 shots)\n"
        "pipelines/trailer/trailer.yaml: OK (4 shots)\n"
    )


def test_a_broken_fragment_is_reported_at_its_own_line(
    make_tree: TreeMaker, cli: Callable[..., Result]
) -> None:
    """A fragment's own mistake is named at its file:line once, though it is found both as a
    fragment and through the pipeline that includes it; exit 2."""
    make_tree(
        {
            "film.yaml": PIPELINE,
            "kit.yaml": "vars: {look: dusk}\ndefaults:\n  seconds: forever\n",
        }
    )
    result = cli("validate", "film.yaml", "kit.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: kit.yaml:3:12: defaults.seconds: 'forever' is not a whole number\n"
        "1 error; nothing was sent to the API.\n"
    )


def test_a_fragment_named_alone_is_found_by_its_folder(
    make_tree: TreeMaker, cli: Callable[..., Result]
) -> None:
    """The includer need not be given: a pipeline in the fragment's folder that includes it
    (through another fragment too) is enough; every includer is named, given ones first."""
    make_tree(
        {
            "film.yaml": PIPELINE.replace("kit.yaml", "shared.yaml"),
            "shared.yaml": "include: [kit.yaml]\n",
            "kit.yaml": "vars: {look: dusk}\n",
        }
    )
    result = cli("validate", "kit.yaml", "shared.yaml")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "kit.yaml: fragment (included by shared.yaml and film.yaml): OK\n"
        "shared.yaml: fragment (included by film.yaml): OK\n"
    )


def test_a_broken_pipeline_nobody_includes_is_checked_as_a_pipeline(
    make_tree: TreeMaker, cli: Callable[..., Result]
) -> None:
    """A pipeline missing its version and shots, included by no file, is no fragment: its
    missing keys are errors."""
    make_tree({"film.yaml": "name: film\nmodel: doubao-seedance-2-0-480p\n"})
    result = cli("validate", "film.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: film.yaml:1:1: version: is required but missing\n"
        "film.yaml:1:1: shots: is required but missing\n"
        "2 errors; nothing was sent to the API.\n"
    )


def test_odd_yaml_beside_the_pipelines_is_reported_not_a_crash(
    make_tree: TreeMaker, cli: Callable[..., Result]
) -> None:
    """Files of the glob (or of a given file's folder) that the search for includers reads:
    a bad explicit tag, a Python tag, nesting too deep, bytes that are not UTF-8. Each is said
    as its own error at its line; the pipeline beside them is still checked; never a crash."""
    make_tree(
        {
            "film.yaml": PIPELINE,
            "kit.yaml": "vars: {look: dusk}\n",
            "tagged.yaml": "version: 1\nratio: !!int abc\n",
            "python.yaml": "x: !!python/object:os.system {}\n",
            "deep.yaml": "x: " + "[" * 5000 + "]" * 5000 + "\n",
        }
    )
    (Path.cwd() / "binary.yaml").write_bytes(b"\xff\xfe\x00bad")
    result = cli("validate", "film.yaml", "tagged.yaml", "python.yaml", "binary.yaml")
    assert result.exit_code == 2
    assert "unexpected error" not in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == "film.yaml: OK (1 shot)\n"
    for name in ("tagged.yaml:2:", "python.yaml:1:", "binary.yaml:"):
        assert f"\n{name}" in "\n" + result.stderr.removeprefix("error: "), result.stderr


def test_ok_counts_shots_not_their_takes(make_tree: TreeMaker, cli: Callable[..., Result]) -> None:
    """Two shots of two takes each are "OK (2 shots)" (not 4), in text and in --json; one
    shot of three takes is "OK (1 shot)"."""
    two = (
        "version: 1\nname: two\nmodel: doubao-seedance-2-0-480p\n"
        "defaults: {seconds: 4, takes: 2}\n"
        "shots:\n  - {id: a, prompt: a kite}\n  - {id: b, prompt: a boat}\n"
    )
    one = (
        "version: 1\nname: one\nmodel: doubao-seedance-2-0-480p\n"
        "shots:\n  - {id: a, prompt: a kite, seconds: 4, takes: 3}\n"
    )
    make_tree({"two.yaml": two, "one.yaml": one})
    result = cli("validate", "two.yaml", "one.yaml")
    assert (result.exit_code, result.stdout) == (
        0,
        "two.yaml: OK (2 shots)\none.yaml: OK (1 shot)\n",
    )
    import json

    document = json.loads(cli("validate", "two.yaml", "--json").stdout)
    assert [entry["shots"] for entry in document["files"]] == [2]


def test_missing_files_folders_and_devices_are_each_reported_and_the_rest_checked(
    make_tree: TreeMaker, cli: Callable[..., Result]
) -> None:
    """A glob mixing a missing file, a folder and /dev/null with pipelines: each is its own
    problem, every pipeline is still checked, exit 2 at the end; under --json the validate
    document holds every file's entry (no error document instead)."""
    make_tree({"film.yaml": PIPELINE, "kit.yaml": "vars: {look: dusk}\n", "frames/a.txt": "x"})
    result = cli("validate", "missing.yaml", "frames", "/dev/null", "film.yaml")
    assert (result.exit_code, result.stdout) == (2, "film.yaml: OK (1 shot)\n")
    assert result.stderr == (
        "error: missing.yaml: no such pipeline file\n"
        "frames: is a folder, not a pipeline file\n"
        "/dev/null: is a device, not a pipeline file\n"
        "3 errors; nothing was sent to the API.\n"
    )
    import json

    shown = cli("validate", "--json", "missing.yaml", "frames", "film.yaml")
    assert shown.exit_code == 2
    document = json.loads(shown.stdout)
    assert (document["kind"], document["ok"]) == ("validate", False)
    assert [
        (
            f["pipeline"],
            f["ok"],
            f["shots"],
            [(e["file"], e["line"], e["message"]) for e in f["errors"]],
        )
        for f in document["files"]
    ] == [
        ("missing.yaml", False, None, [("missing.yaml", None, "no such pipeline file")]),
        ("frames", False, None, [("frames", None, "is a folder, not a pipeline file")]),
        ("film.yaml", True, 1, []),
    ]


def test_a_fifo_named_yaml_never_hangs_validate_or_plan(tmp_path: Path) -> None:
    """A FIFO (or socket) named *.yaml beside the pipeline is not opened by the search for
    includers, and given as the pipeline itself it is refused from its stat: at once."""
    import os

    (tmp_path / "film.yaml").write_text(PIPELINE, encoding="utf-8")
    (tmp_path / "kit.yaml").write_text("vars: {look: dusk}\n", encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.yaml")
    import socket

    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(tmp_path / "sock.yaml"))  # a socket beside: never opened either
    env = environment(tmp_path / "cache")
    done = subprocess.run(
        [sys.executable, "-m", "rdpipe", "validate", "film.yaml"], cwd=tmp_path, env=env,
        text=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "film.yaml: OK (1 shot)\n", "")
    done = subprocess.run(
        [sys.executable, "-m", "rdpipe", "validate", "pipe.yaml", "sock.yaml", "film.yaml"],
        cwd=tmp_path, env=env, text=True, capture_output=True, timeout=60,
    )  # fmt: skip
    listening.close()
    assert (done.returncode, done.stdout) == (2, "film.yaml: OK (1 shot)\n")
    assert done.stderr == (
        "error: pipe.yaml: is a FIFO, not a pipeline file\n"
        "sock.yaml: is a socket, not a pipeline file\n"
        "2 errors; nothing was sent to the API.\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "rdpipe", "plan", "pipe.yaml", "--offline"], cwd=tmp_path,
        env=env, text=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (
        2,
        "error: pipe.yaml: is a FIFO, not a pipeline file\n",
    )


def test_a_file_name_that_is_not_utf8_gives_valid_json_and_the_same_escape_on_stderr(
    tmp_path: Path,
) -> None:
    """Byte 0xff in a file name: --json stdout is valid UTF-8 JSON naming it ``\\xff``, and
    stderr says it the same way (never a raw byte, never ``\\udcff``)."""
    import json

    (tmp_path / "film.yaml").write_text(PIPELINE, encoding="utf-8")
    (tmp_path / "kit.yaml").write_text("vars: {look: dusk}\n", encoding="utf-8")
    env = environment(tmp_path / "cache")
    done = subprocess.run(
        [sys.executable.encode(), b"-m", b"rdpipe", b"plan", b"\xff.yaml", b"--json"],
        cwd=tmp_path, env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    error = json.loads(done.stdout.decode("utf-8"))["error"]
    assert error["message"] == "\\xff.yaml: no such pipeline file"
    assert done.stderr.decode("utf-8") == "error: \\xff.yaml: no such pipeline file\n"
    (tmp_path / "film.yaml").rename(tmp_path / os.fsdecode(b"\xff.yaml"))
    done = subprocess.run(
        [sys.executable.encode(), b"-m", b"rdpipe", b"validate", b"\xff.yaml", b"--json"],
        cwd=tmp_path, env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [entry] = json.loads(done.stdout.decode("utf-8"))["files"]
    assert (entry["pipeline"], entry["ok"], entry["shots"]) == ("\\xff.yaml", True, 1)
    done = subprocess.run(
        [sys.executable.encode(), b"-m", b"rdpipe", b"validate", b"\xff.yaml"],
        cwd=tmp_path, env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.stdout == b"\\xff.yaml: OK (1 shot)\n"


def test_a_fragment_included_by_several_pipelines_is_said_once_naming_them_all(
    make_tree: TreeMaker, cli: Callable[..., Result]
) -> None:
    """A mistake in a fragment three pipelines include is printed once and counted once; the
    fragment names all its includers (text and --json ``included_by``); validated alone, its
    model id is still checked against the catalog."""
    import json

    pipeline = PIPELINE.replace("kit.yaml", "common.yaml").replace(
        "model: doubao-seedance-2-0-480p\n", ""
    )
    make_tree({
        "one.yaml": pipeline, "two.yaml": pipeline, "three.yaml": pipeline,
        "common.yaml": "vars: {look: dusk}\ndefaults:\n  model: doubao-seedance-2-0-48op\n",
    })  # fmt: skip
    warning = (
        "common.yaml:3:10: defaults.model: warning: model 'doubao-seedance-2-0-48op' is not in "
        "rdpipe's catalog; did you mean 'doubao-seedance-2-0-480p'?"
    )
    result = cli("validate", "one.yaml", "two.yaml", "three.yaml", "common.yaml")
    assert result.exit_code == 0
    assert result.stderr.count(warning) == 1, result.stderr
    assert result.stdout.endswith(
        "common.yaml: fragment (included by one.yaml, two.yaml and three.yaml): OK\n"
    )
    document = json.loads(cli("validate", "--json", "common.yaml", "one.yaml").stdout)
    [fragment, _one] = document["files"]
    assert (fragment["fragment"], fragment["included_by"]) == (
        True, ["one.yaml", "three.yaml", "two.yaml"],
    )  # fmt: skip
    alone = cli("validate", "common.yaml")
    assert (alone.exit_code, alone.stderr) == (0, warning + "\n")
    assert alone.stdout == (
        "common.yaml: fragment (included by one.yaml, three.yaml and two.yaml): OK\n"
    )


def test_online_a_shared_fragments_unserved_id_is_one_error_and_refused_alone(
    make_tree: TreeMaker, cli: Callable[..., Result], sim: SimServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """validate --online over three pipelines sharing a fragment with a typo'd id: one error
    (not three), exit 2; the fragment validated alone is refused the same way."""
    monkeypatch.setenv("RELAYDANCE_BASE_URL", sim.base_url)
    monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
    pipeline = PIPELINE.replace("kit.yaml", "common.yaml").replace(
        "model: doubao-seedance-2-0-480p\n", ""
    )
    make_tree({
        "one.yaml": pipeline, "two.yaml": pipeline, "three.yaml": pipeline,
        "common.yaml": "vars: {look: dusk}\ndefaults:\n  model: doubao-seedance-2-0-48op\n",
    })  # fmt: skip
    host = urlsplit(sim.base_url).netloc
    refusal = (
        f"common.yaml:3:10: defaults.model: model 'doubao-seedance-2-0-48op' is not served by "
        f"{host}; did you mean 'doubao-seedance-2-0-480p'?"
    )
    result = cli("validate", "--online", "one.yaml", "two.yaml", "three.yaml", "common.yaml")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(f"error: {refusal}")
    assert result.stderr.count("is not served by") == 1, result.stderr
    assert result.stderr.endswith("\n1 error; nothing was sent to the API.\n")
    alone = cli("validate", "--online", "common.yaml")
    assert (alone.exit_code, alone.stdout) == (2, "")
    assert alone.stderr == f"error: {refusal}\n1 error; nothing was sent to the API.\n"
