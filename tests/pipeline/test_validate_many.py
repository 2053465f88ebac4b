"""`rdpipe validate pipelines/*/*.yaml`, the obvious CI line: a file another pipeline includes
is checked as a fragment, and only such a file, so a broken pipeline is never excused."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from tests.cli_process import environment

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
    """A fragment's own mistake is named at its file:line, once as a fragment and once through
    the pipeline that includes it; exit 2."""
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
        "kit.yaml:3:12: defaults.seconds: 'forever' is not a whole number\n"
        "2 errors; nothing was sent to the API.\n"
    )


def test_a_fragment_named_alone_is_found_by_its_folder(
    make_tree: TreeMaker, cli: Callable[..., Result]
) -> None:
    """The includer need not be given: a pipeline in the fragment's folder that includes it
    (through another fragment too) is enough; a given includer is named first."""
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
        "kit.yaml: fragment (included by shared.yaml): OK\n"
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
