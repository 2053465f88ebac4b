"""What users of good CLIs expect (issue 16 §6): --version, completion, help with an example and
no Python type names, ``rdpipe init`` then an offline run, options from the environment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path
from subprocess import CompletedProcess

import av
import pytest
import typer.main

from rdpipe.cli import app
from rdpipe.sim import Faults, SimServer
from tests.cli_process import PIPELINE, environment, run_rdpipe, write_pipeline

ROOT = Path(__file__).resolve().parents[2]
#: A Python type name as typer shows one: ``<int>``, ``<list[str]>``, ``{FILE}``, ``<float range>``.
TYPE_NAME = re.compile(
    r"[\[{<](?:list|str|int|float|path|bool)\b[^\]}>]*[\]}>]|\{\w+\}|<\w+ range>"
)


def _command_paths() -> list[list[str]]:
    """Every command path: ``[]`` (rdpipe itself), ``["run"]``, ``["sim", "serve"]``..."""
    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def test_version_prints_the_pyproject_version(tmp_path: Path) -> None:
    """``rdpipe --version`` prints ``rdpipe X.Y.Z``: the installed version, pyproject's."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

    result = run_rdpipe("--version", cwd=tmp_path, env=environment(tmp_path))

    assert (result.returncode, result.stdout, result.stderr) == (0, f"rdpipe {declared}\n", "")
    assert version("rdpipe") == declared


def test_version_loads_no_command_line(tmp_path: Path) -> None:
    """``rdpipe --version`` answers without importing typer or rich (a few hundredths of a
    second instead of the command line's few tenths)."""
    command = [sys.executable, "-X", "importtime", "-m", "rdpipe", "--version"]
    env = environment(tmp_path)

    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)

    assert result.stdout == f"rdpipe {version('rdpipe')}\n"
    modules = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", result.stderr, re.M)
    assert "rdpipe.version" in modules
    assert sorted({m.split(".")[0] for m in modules} & {"typer", "click", "rich"}) == []


def test_show_completion_prints_a_bash_completion_script(tmp_path: Path) -> None:
    """``rdpipe --show-completion bash`` prints the script that completes ``rdpipe`` in bash."""
    env = environment(tmp_path, {"SHELL": "/bin/bash"})

    result = run_rdpipe("--show-completion", "bash", cwd=tmp_path, env=env)

    assert result.returncode == 0, result.stderr
    assert "_RDPIPE_COMPLETE=complete_bash" in result.stdout
    assert result.stdout.rstrip().endswith("complete -o default -F _rdpipe_completion rdpipe")


def test_completion_offers_the_commands(tmp_path: Path) -> None:
    """Completing ``rdpipe r`` in bash offers ``review`` and ``run``."""
    env = environment(
        tmp_path,
        {"_RDPIPE_COMPLETE": "complete_bash", "COMP_WORDS": "rdpipe r", "COMP_CWORD": "1"},
    )

    result = run_rdpipe(cwd=tmp_path, env=env)

    assert result.stdout.split() == ["review", "run"]


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "rdpipe")
def test_help_has_an_example_and_no_python_type_names(path: list[str]) -> None:
    """Every command's ``--help`` ends with an example, names no Python type, and shows no
    reStructuredText markup (````asset: true```` reads as `asset: true`)."""
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*path, "--help"], prog_name="rdpipe")

    assert result.exit_code == 0, result.output
    example = result.output.split("Example:\n", 1)[1]
    assert example.startswith("    rdpipe ") or example.startswith("    RDPIPE_")
    assert TYPE_NAME.findall(result.output) == []
    assert "``" not in result.output


def test_help_shows_the_environment_variables() -> None:
    """``rdpipe run --help`` names RDPIPE_CONCURRENCY beside -j and RDPIPE_OFFLINE beside
    --offline."""
    from typer.testing import CliRunner

    text = " ".join(CliRunner().invoke(app, ["run", "--help"], prog_name="rdpipe").output.split())

    assert "-j, --concurrency N Tasks in flight." in text
    assert "[env var: RDPIPE_CONCURRENCY; from 1 to 256]" in text
    assert "[env var: RDPIPE_OFFLINE]" in text
    assert "[default: 30.0; at least 1]" in text and "[at least 0.05]" in text


@pytest.mark.parametrize("path", _command_paths(), ids=lambda path: " ".join(path) or "rdpipe")
def test_help_gives_ranges_in_words(path: list[str]) -> None:
    """No command's help shows a range as maths (``[x>=0]``, ``[0<=x<=65535]``)."""
    from typer.testing import CliRunner

    output = CliRunner().invoke(app, [*path, "--help"], prog_name="rdpipe").output
    assert re.findall(r"x\s*[<>]=|<=\s*x", output) == [], output


def test_every_offline_option_names_rdpipe_offline() -> None:
    """Every command with ``--offline`` takes it from RDPIPE_OFFLINE too, and says so."""
    from typer.testing import CliRunner

    runner, offline = CliRunner(), []
    for path in _command_paths():
        output = runner.invoke(app, [*path, "--help"], prog_name="rdpipe").output
        text = " ".join(output.split("Example:")[0].split())  # the options, not the example
        if "--offline" in text:
            offline.append((" ".join(path), "[env var: RDPIPE_OFFLINE]" in text))

    takers = ["assemble", "assets", "balance", "cost", "models", "plan", "review", "run", "status"]
    assert sorted(name for name, _ in offline) == takers
    assert [name for name, shown in offline if not shown] == []


def test_concurrency_comes_from_the_environment(tmp_path: Path) -> None:
    """RDPIPE_CONCURRENCY stands in for -j: a value out of range is refused as -j's would be."""
    write_pipeline(tmp_path)
    env = environment(tmp_path / "cache", {"RDPIPE_CONCURRENCY": "0"})

    result = run_rdpipe("run", "film.yaml", "--offline", cwd=tmp_path, env=env)

    assert result.returncode == 2
    assert result.stderr.endswith(
        "Error: RDPIPE_CONCURRENCY=0 is not valid (for --concurrency): give a whole number "
        "from 1 to 256\n"
    )
    assert not (tmp_path / ".rdpipe").exists()


@pytest.mark.parametrize(
    ("environ", "arguments", "said"),
    [
        ({"RDPIPE_CONCURRENCY": "abc"}, ["run", "film.yaml", "--offline"],
         "RDPIPE_CONCURRENCY=abc is not valid (for --concurrency): give a whole number from 1 "
         "to 256"),
        ({}, ["run", "film.yaml", "--offline", "-j", "3.5"],
         "--concurrency 3.5 is not valid: give a whole number from 1 to 256"),
        ({}, ["run", "film.yaml", "--offline", "--max-seconds", "-1"],
         "--max-seconds -1 is not valid: give a whole number at least 0"),
        ({"RDPIPE_OFFLINE": "maybe"}, ["status", "film.yaml"],
         "RDPIPE_OFFLINE=maybe is not a yes or no (for --offline): give 1, true, yes or on; or "
         "0, false, no or off"),
        ({"RDPIPE_CONCURRENCY": "a b"}, ["run", "film.yaml", "--offline"],
         "RDPIPE_CONCURRENCY='a b' is not valid (for --concurrency): give a whole number from 1 "
         "to 256"),
    ],
)  # fmt: skip
def test_a_bad_value_is_named_with_where_it_came_from(
    tmp_path: Path, environ: dict[str, str], arguments: list[str], said: str
) -> None:
    """A value an option cannot take is said in rdpipe's words, naming the value as given
    (``RDPIPE_CONCURRENCY=abc``, ``--concurrency 3.5``) and what it takes; exit 2."""
    write_pipeline(tmp_path)
    env = environment(tmp_path / "cache", environ)
    result = run_rdpipe(*arguments, cwd=tmp_path, env=env)
    assert (result.returncode, result.stderr.splitlines()[-1]) == (2, f"Error: {said}")
    assert "Input should be" not in result.stderr


def test_offline_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RDPIPE_OFFLINE=1 stands in for --offline: the run uses the simulator and its outputs.
    In-process: the option is read from the environment the command line sees, as in a shell."""
    from typer.testing import CliRunner

    write_pipeline(tmp_path)
    monkeypatch.chdir(tmp_path)
    env = environment(tmp_path / "cache", {"RDPIPE_OFFLINE": "1"})
    unset: dict[str, str | None] = {name: None for name in os.environ if name not in env}

    result = CliRunner().invoke(
        app, ["run", "film.yaml"], env={**env, **unset}, catch_exceptions=False
    )

    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "offline" / "film.mp4").is_file()


def test_init_then_offline_run_makes_a_video(tmp_path: Path) -> None:
    """From an empty folder, ``rdpipe init`` then ``rdpipe run storyboard.yaml --offline``
    make a video PyAV decodes, with frames and a duration."""
    env = environment(tmp_path / "cache")
    project = tmp_path / "film"
    project.mkdir()

    init = run_rdpipe("init", cwd=project, env=env)
    run = run_rdpipe("run", "storyboard.yaml", "--offline", cwd=project, env=env)

    assert (init.returncode, init.stderr) == (0, "")
    assert init.stdout == (
        "wrote storyboard.yaml\nwrote pipeline.schema.json\nwrote .gitignore\n"
        "next: rdpipe run storyboard.yaml --offline\n"
    )
    assert run.returncode == 0, run.stderr
    video = project / "out" / "offline" / "storyboard.mp4"
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        duration = float(container.duration or 0) / av.time_base
    assert frames > 0
    assert duration == pytest.approx(9.0, abs=0.5)  # 4 s + 5 s


def test_init_writes_the_modeline_schema_and_gitignore(tmp_path: Path) -> None:
    """The storyboard names the schema written beside it; the .gitignore keeps out out/ and
    .rdpipe/; the schema is ``rdpipe schema``'s."""
    from rdpipe.schema import schema_text

    result = run_rdpipe("init", "my film", cwd=tmp_path, env=environment(tmp_path / "cache"))

    assert result.returncode == 0, result.stderr
    folder = tmp_path / "my film"
    storyboard = (folder / "storyboard.yaml").read_text()
    assert storyboard.startswith("# yaml-language-server: $schema=pipeline.schema.json\n")
    assert (folder / "pipeline.schema.json").read_text() == schema_text()
    ignored = (folder / ".gitignore").read_text().splitlines()
    assert [line for line in ignored if not line.startswith("#")] == ["out/", ".rdpipe/"]
    assert result.stdout.endswith("next: cd 'my film' && rdpipe run storyboard.yaml --offline\n")


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    """With a storyboard.yaml already there, ``rdpipe init`` writes nothing (not even a
    .gitignore), says why in one paragraph, and exits 2."""
    (tmp_path / "storyboard.yaml").write_text("mine\n")

    result = run_rdpipe("init", cwd=tmp_path, env=environment(tmp_path / "cache"))

    assert result.returncode == 2
    assert result.stderr == (
        "error: rdpipe init writes storyboard.yaml and pipeline.schema.json in this folder, "
        "but storyboard.yaml is already there; nothing was written. Move it away, or "
        "run rdpipe init in another folder (rdpipe init FOLDER makes it).\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["storyboard.yaml"]
    assert (tmp_path / "storyboard.yaml").read_text() == "mine\n"


def test_quiet_and_verbose_together_are_refused(tmp_path: Path) -> None:
    """``rdpipe -q -v`` is a usage error (exit 2) naming both options."""
    result = run_rdpipe("-q", "-v", "models", cwd=tmp_path, env=environment(tmp_path))

    assert result.returncode == 2
    assert "Invalid value for -q/-v: choose one of --quiet and --verbose" in result.stderr


RETRY_LINE = re.compile(
    r"^retrying GET /v1/video/generations/(task_\w+) in 1\.0 s \(HTTP 429, attempt 2 of 6\)$",
    re.MULTILINE,
)


def _poll_refused_once(sim: SimServer) -> None:
    """The simulator answers the first task poll 429 with ``Retry-After: 1``."""
    sim.faults = Faults(rate_limit_burst=1, retry_after=1, endpoints=frozenset({"generation"}))


def _run_online(tmp_path: Path, sim: SimServer, *options: str) -> CompletedProcess[str]:
    write_pipeline(tmp_path, PIPELINE.replace("  - {id: b, prompt: a blue boat}\n", ""))
    env = environment(
        tmp_path / "cache",
        {"RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": "sk-sim-test"},
    )
    arguments = ("run", "film.yaml", "--poll-interval", "0.1")
    return run_rdpipe(*options, *arguments, cwd=tmp_path, env=env)


def test_verbose_shows_each_retry(tmp_path: Path, sim: SimServer) -> None:
    """With ``-v``, a poll refused 429 is said on stderr in one line, with the request, the
    wait the server asked for, the status and the attempt; the run goes on and succeeds."""
    _poll_refused_once(sim)

    result = _run_online(tmp_path, sim, "-v")

    assert result.returncode == 0, result.stderr
    lines = RETRY_LINE.findall(result.stderr)
    assert len(lines) == 1, result.stderr
    assert f"a: done - task {lines[0]}" in result.stdout


def test_retries_are_silent_without_verbose(tmp_path: Path, sim: SimServer) -> None:
    """Without ``-v`` the same refused poll is retried without a word."""
    _poll_refused_once(sim)

    result = _run_online(tmp_path, sim)

    assert result.returncode == 0, result.stderr
    assert "retrying" not in result.stdout + result.stderr
    assert sim.counters()["GET /v1/video/generations/{id}"] >= 2  # the refused poll, again


def test_quiet_run_prints_the_summary_only(tmp_path: Path) -> None:
    """``rdpipe -q run`` prints no shot events, plan or progress: the summary line alone."""
    write_pipeline(tmp_path)

    result = run_rdpipe(
        "-q", "run", "film.yaml", "--offline", cwd=tmp_path, env=environment(tmp_path / "cache")
    )

    assert (result.returncode, result.stderr) == (0, "")
    video = tmp_path / "out" / "offline" / "film.mp4"
    assert result.stdout == f"film: 2 submitted, 0 resumed, 0 reused, 0 failed -> {video}\n"


def test_install_completion_installs_for_the_shell_named(tmp_path: Path) -> None:
    """``rdpipe --install-completion fish`` in bash installs fish's completion, not bash's."""
    home = tmp_path / "home"
    home.mkdir()
    env = environment(tmp_path / "cache", {"HOME": str(home), "SHELL": "/bin/bash"})

    result = run_rdpipe("--install-completion", "fish", cwd=tmp_path, env=env)

    script = home / ".config" / "fish" / "completions" / "rdpipe.fish"
    assert (result.returncode, result.stdout) == (0, (
        f"fish completion installed in {script}\n"
        "Completion will take effect once you restart the terminal\n"
    )), result.stderr  # fmt: skip
    assert "complete --command rdpipe" in script.read_text()
    assert not (home / ".bashrc").exists()


@pytest.mark.parametrize("option", ["--show-completion", "--install-completion"])
def test_a_shell_completion_cannot_serve_is_refused(tmp_path: Path, option: str) -> None:
    """``rdpipe --show-completion nosuch``: exit 2 naming the shells, no script printed."""
    home = tmp_path / "home"
    home.mkdir()
    env = environment(tmp_path / "cache", {"HOME": str(home), "SHELL": "/bin/bash"})

    result = run_rdpipe(option, "nosuch", cwd=tmp_path, env=env)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for {option}: 'nosuch' is not a shell rdpipe can complete: give "
        "one of bash, zsh, fish, powershell, pwsh"
    )
    assert list(home.iterdir()) == []


def test_install_completion_writes_the_script_and_sources_it(tmp_path: Path) -> None:
    """``rdpipe --install-completion bash`` writes the script under ~ and sources it from
    ~/.bashrc."""
    home = tmp_path / "home"
    home.mkdir()
    env = environment(tmp_path / "cache", {"HOME": str(home), "SHELL": "/bin/bash"})

    result = run_rdpipe("--install-completion", "bash", cwd=tmp_path, env=env)

    script = home / ".bash_completions" / "rdpipe.sh"
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"bash completion installed in {script}\n")
    assert f"source '{script}'" in (home / ".bashrc").read_text()
    assert "complete -o default -F _rdpipe_completion rdpipe" in script.read_text()


def test_verbose_models_shows_the_retry_of_its_read(tmp_path: Path, sim: SimServer) -> None:
    """``rdpipe -v models`` says the retry of a model list refused 429 once; without ``-v``
    the same retry is silent. Both print the list."""
    env = environment(
        tmp_path, {"RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": "sk-sim-test"}
    )
    refused = Faults(rate_limit_burst=1, retry_after=1, endpoints=frozenset({"models"}))

    sim.faults = refused
    verbose = run_rdpipe("-v", "models", cwd=tmp_path, env=env)
    sim.faults = refused
    quiet = run_rdpipe("models", cwd=tmp_path, env=env)

    assert (verbose.returncode, quiet.returncode) == (0, 0), verbose.stderr + quiet.stderr
    assert verbose.stderr == "retrying GET /v1/models in 1.0 s (HTTP 429, attempt 2 of 6)\n"
    assert quiet.stderr == ""
    assert verbose.stdout == quiet.stdout
    assert "doubao-seedance-2-0-480p" in verbose.stdout


def test_verbose_balance_shows_the_retry_of_its_read(tmp_path: Path, sim: SimServer) -> None:
    """``rdpipe -v balance`` says the retry of a balance read refused 429; the balance is
    printed as without ``-v``."""
    env = environment(
        tmp_path, {"RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": "sk-sim-test"}
    )
    refused = Faults(rate_limit_burst=1, retry_after=1, endpoints=frozenset({"balance"}))

    sim.faults = refused
    verbose = run_rdpipe("-v", "balance", cwd=tmp_path, env=env)
    sim.faults = refused
    plain = run_rdpipe("balance", cwd=tmp_path, env=env)

    assert (verbose.returncode, plain.returncode) == (0, 0), verbose.stderr + plain.stderr
    assert verbose.stderr == (
        "retrying GET /v1/dashboard/billing/subscription in 1.0 s (HTTP 429, attempt 2 of 6)\n"
    )
    assert plain.stderr == ""
    assert verbose.stdout == plain.stdout != ""


def test_init_keeps_a_gitignore_and_adds_the_lines_it_lacks(tmp_path: Path) -> None:
    """In a git repository's folder, ``rdpipe init`` keeps its .gitignore byte for byte and
    appends only what it lacks (here .rdpipe/: ``out`` ignores out/ already), and says so."""
    (tmp_path / ".gitignore").write_bytes(b"node_modules\r\n/out")

    result = run_rdpipe("init", cwd=tmp_path, env=environment(tmp_path / "cache"))

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        "wrote storyboard.yaml\nwrote pipeline.schema.json\nadded .rdpipe/ to .gitignore\n"
        "next: rdpipe run storyboard.yaml --offline\n"
    )
    assert (tmp_path / ".gitignore").read_bytes() == (
        b"node_modules\r\n/out\r\n"
        b"# Added by rdpipe init: what rdpipe generates, kept out of git.\r\n.rdpipe/\r\n"
    )


def test_init_adds_both_lines_or_none(tmp_path: Path) -> None:
    """A .gitignore with neither line gets both ("added out/ and .rdpipe/"); one with both
    is left untouched and said to be kept."""
    env = environment(tmp_path / "cache")
    lacking, complete = tmp_path / "lacking", tmp_path / "complete"
    lacking.mkdir()
    complete.mkdir()
    (lacking / ".gitignore").write_text("*.pyc\n")
    (complete / ".gitignore").write_text("out/\n.rdpipe/\n")

    added = run_rdpipe("init", cwd=lacking, env=env)
    kept = run_rdpipe("init", cwd=complete, env=env)

    assert added.returncode == 0, added.stderr
    assert "\nadded out/ and .rdpipe/ to .gitignore\n" in added.stdout
    assert (lacking / ".gitignore").read_text() == (
        "*.pyc\n# Added by rdpipe init: what rdpipe generates, kept out of git.\nout/\n.rdpipe/\n"
    )
    assert kept.returncode == 0, kept.stderr
    assert "\nkept .gitignore: it ignores out/ and .rdpipe/ already\n" in kept.stdout
    assert (complete / ".gitignore").read_text() == "out/\n.rdpipe/\n"


def test_init_next_step_cds_into_a_dash_folder_safely(tmp_path: Path) -> None:
    """``rdpipe init -- -dash`` advises ``cd ./-dash``, which bash runs (``cd -dash`` would be
    an invalid option), and that command reaches the folder."""
    result = run_rdpipe("init", "--", "-dash", cwd=tmp_path, env=environment(tmp_path / "cache"))

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("next: cd ./-dash && rdpipe run storyboard.yaml --offline\n")
    command = result.stdout.splitlines()[-1].removeprefix("next: ").split(" && ")[0]
    shell = subprocess.run(
        ["bash", "-c", f"{command} && pwd"], cwd=tmp_path, capture_output=True, text=True
    )
    assert (shell.returncode, shell.stdout) == (0, f"{tmp_path / '-dash'}\n")


def test_init_refuses_a_gitignore_folder_before_writing_anything(tmp_path: Path) -> None:
    """A folder named .gitignore cannot be appended to: exit 2 and nothing written, rather
    than a storyboard written and then a crash."""
    (tmp_path / ".gitignore").mkdir()

    result = run_rdpipe("init", cwd=tmp_path, env=environment(tmp_path / "cache"))

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: rdpipe init writes storyboard.yaml and pipeline.schema.json in this folder, "
        "but .gitignore (a folder, where rdpipe init writes a file) is already there; nothing "
        "was written. Move it away, or run rdpipe init in another folder (rdpipe init FOLDER "
        "makes it).\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gitignore"]


def test_quiet_validate_prints_nothing_on_success(tmp_path: Path) -> None:
    """``rdpipe -q validate FILE``: a valid file says nothing (exit 0); an invalid one still
    says its error (exit 2)."""
    write_pipeline(tmp_path)
    env = environment(tmp_path / "cache")
    result = run_rdpipe("-q", "validate", "film.yaml", cwd=tmp_path, env=env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    (tmp_path / "bad.yaml").write_text("version: 1\nshots: 3\n", encoding="utf-8")
    failed = run_rdpipe("-q", "validate", "bad.yaml", cwd=tmp_path, env=env)
    assert failed.returncode == 2 and "bad.yaml" in failed.stderr, failed.stderr
