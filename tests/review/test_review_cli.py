"""``rdpipe pick`` and ``rdpipe review`` through the CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.yaml_edit import read_picks
from tests.review.review_tree import (
    PIPELINE_YAML,
    RunTree,
    build_tree,
    manifest_document,
    write_manifest,
)


def invoke(*args: str) -> tuple[int, str]:
    """Run rdpipe with ``args``; the exit code and everything it printed."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_pick_sets_the_take_and_says_how_to_rebuild(run_tree: RunTree) -> None:
    """`rdpipe pick FILE SHOT K` writes pick: K and points at `rdpipe assemble`."""
    file = str(run_tree.pipeline)
    code, output = invoke("pick", file, "coast", "3")
    assert code == 0, output
    assert output == (
        f"coast: take 3 (was the first take that succeeded) in {file}\n"
        f"Nothing is regenerated. Run `rdpipe assemble {file}` to rebuild the video.\n"
    )
    assert read_picks(run_tree.pipeline)["coast"] == 3


def test_pick_zero_and_clear_remove_the_key(run_tree: RunTree) -> None:
    """`K=0` and `--clear` both remove pick:, giving back the file without it."""
    file = str(run_tree.pipeline)
    assert invoke("pick", file, "lamp", "0")[0] == 0
    assert "pick:" not in run_tree.pipeline.read_text()
    assert invoke("pick", file, "lamp", "2")[0] == 0
    assert invoke("pick", file, "lamp", "--clear")[0] == 0
    assert run_tree.pipeline.read_text() == PIPELINE_YAML.replace("    pick: 1\n", "")


def test_pick_refuses_unknown_shots_and_takes_with_exit_2(run_tree: RunTree) -> None:
    """An unknown shot or a take beyond takes: exits 2, names the file and leaves it alone."""
    file = str(run_tree.pipeline)
    code, output = invoke("pick", file, "harbour", "1")
    assert code == 2
    assert f"{file}: no shot with id 'harbour' in this file" in output
    code, output = invoke("pick", file, "coast", "4")
    assert code == 2
    assert "has no take 4; a take is between 1 and 3" in output
    code, output = invoke("pick", file, "coast")
    assert code == 2
    assert "give a take number (1 or more), or --clear" in output
    assert run_tree.pipeline.read_text() == PIPELINE_YAML


def test_review_writes_the_page_beside_the_video(run_tree: RunTree) -> None:
    """`rdpipe review FILE` writes out/review.html and says where."""
    code, output = invoke("review", str(run_tree.pipeline), "--no-open")
    page = run_tree.output_dir / "review.html"
    assert code == 0, output
    assert output == f"Wrote {page}\n"
    assert 'id="shot-coast"' in page.read_text(encoding="utf-8")


def test_review_offline_reads_the_offline_run(tmp_path: Path, session_clip: Path) -> None:
    """With --offline the page is built from out/offline/ and written there."""
    tree = build_tree(tmp_path / "film", session_clip, offline=True)
    code, output = invoke("review", str(tree.pipeline), "--offline", "--no-open")
    assert code == 0, output
    assert (tmp_path / "film" / "out" / "offline" / "review.html").is_file()
    assert not (tmp_path / "film" / "out" / "review.html").exists()


def test_review_before_any_run_exits_2_with_a_hint(run_tree: RunTree) -> None:
    """Without a manifest, review says the pipeline has not run and how to run it."""
    shutil.rmtree(run_tree.output_dir)
    code, output = invoke("review", str(run_tree.pipeline), "--no-open")
    assert code == 2
    assert "manifest.json: no manifest: this pipeline has not run yet" in output
    assert f"Run the pipeline first: `rdpipe run {run_tree.pipeline}`, then review it." in output


def test_review_offline_before_any_run_suggests_the_offline_run(
    tmp_path: Path, session_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the folder above, `review film/lighthouse.yaml --offline` with no offline run yet
    suggests exactly `rdpipe run film/lighthouse.yaml --offline`."""
    build_tree(tmp_path / "film", session_clip)  # a paid run only
    monkeypatch.chdir(tmp_path)
    code, output = invoke("review", "film/lighthouse.yaml", "--offline", "--no-open")
    assert code == 2
    assert "`rdpipe run film/lighthouse.yaml --offline`, then review it." in output


def test_review_writes_commands_that_work_from_where_it_ran(
    tmp_path: Path, session_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rdpipe review films/lighthouse/lighthouse.yaml --offline` run from the folder above
    writes pick and assemble commands naming the file from there, --offline where accepted."""
    tree = build_tree(tmp_path / "films" / "lighthouse", session_clip, offline=True)
    document = manifest_document(tree.pipeline)
    write_manifest(tree, {**document, "video": None})  # so the page says how to assemble
    monkeypatch.chdir(tmp_path)
    code, output = invoke("review", "films/lighthouse/lighthouse.yaml", "--offline", "--no-open")
    assert code == 0, output
    html = (tree.output_dir / "review.html").read_text(encoding="utf-8")
    assert "<code>rdpipe pick films/lighthouse/lighthouse.yaml coast 3</code>" in html
    assert "<code>rdpipe assemble films/lighthouse/lighthouse.yaml --offline</code>" in html


def test_review_of_a_file_that_cannot_run_shows_why_not_a_run_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never run, and its output path is outside its folder: review exits 2 with the
    validation error (file, line, field), not "run it first" with a run that would fail too."""
    monkeypatch.chdir(tmp_path)
    Path("a.yaml").write_text(
        "version: 1\nname: a\nmodel: doubao-seedance-2-0-480p\n"
        "shots:\n  - {id: one, prompt: x}\noutput:\n  path: /elsewhere/x.mp4\n",
        encoding="utf-8",
    )
    code, output = invoke("review", "a.yaml", "--offline")
    assert code == 2
    assert output.startswith(
        "error: a.yaml:7:9: output.path: '/elsewhere/x.mp4' must be a file path inside the "
        "pipeline's folder (relative, without '..')\n"
    )
    assert "rdpipe run" not in output
