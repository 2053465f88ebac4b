"""In a git repository, rdpipe's runs leave ``git status`` clean but for the lock file and the
files it writes at the top of a folder that is not its own (issue 13 §5).

Every test runs the CLI in a real repository (``git init`` in the test's folder, the pipeline
and the user's files committed) and compares ``git status --porcelain --untracked-files=all``
exactly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from PIL import Image

from rdpipe.files import GENERATED_NOTE
from rdpipe.sim import SimServer
from tests.run.conftest import pipeline_text, submits, write

IGNORE_ALL = f"# {GENERATED_NOTE}\n*\n"
SHOTS = {"coast": "a coast", "lamp": "a lamp"}
#: A pipeline whose video goes in its own folder, with a local reference image.
IN_OWN_FOLDER = """version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {seconds: 4, ratio: '16:9'}
references:
  kite: {image: refs/kite.png}
shots:
  - {id: coast, prompt: "a coast with {{ ref('kite') }}", references: [kite]}
  - {id: lamp, prompt: a lamp}
output: {path: film.mp4}
"""

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git in ``repo`` with no user or system configuration (no global excludes file)."""
    home = repo.parent / "git-home"
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home),
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}  # fmt: skip
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=60)


def new_repo(repo: Path) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    assert git(repo, "init", "-q").returncode == 0
    return repo


def commit_all(repo: Path) -> None:
    """Commit what the user has before rdpipe runs (the test's own files only)."""
    assert git(repo, "add", "-A").returncode == 0
    assert git(repo, "commit", "-q", "-m", "the storyboard").returncode == 0


def status(repo: Path) -> list[str]:
    """``git status``: one line per untracked or changed file, every file listed."""
    shown = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert shown.returncode == 0, shown.stderr
    return shown.stdout.splitlines()


def ignored(repo: Path, *paths: str) -> list[str]:
    """Which of ``paths`` git's ignore rules match (``check-ignore --no-index``: tracked or not)."""
    found = git(repo, "check-ignore", "--no-index", *paths)
    assert found.returncode in (0, 1), found.stderr
    return found.stdout.splitlines()


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def test_the_default_layout_leaves_only_the_lock_file(
    tmp_path: Path, online: SimServer, rdpipe_cli: Callable[..., Result]
) -> None:
    """run, a no-op rerun, review, assemble: git shows the lock file alone; out/ and .rdpipe/
    hold a .gitignore of '*', written by the first run only."""
    repo = new_repo(tmp_path / "repo")
    pipeline = write(repo / "film.yaml", pipeline_text(SHOTS))
    commit_all(repo)

    ok(rdpipe_cli("run", str(pipeline)))
    assert status(repo) == ["?? film.rdpipe.lock"]
    assert ignored(repo, "film.yaml", "film.rdpipe.lock") == []
    out_ignore = repo / "out" / ".gitignore"
    assert out_ignore.read_text(encoding="utf-8") == IGNORE_ALL
    assert (repo / ".rdpipe" / ".gitignore").read_text(encoding="utf-8").endswith("\n*\n")
    before = out_ignore.stat()

    ok(rdpipe_cli("run", str(pipeline)))
    ok(rdpipe_cli("review", str(pipeline), "--no-open"))
    ok(rdpipe_cli("assemble", str(pipeline)))

    assert status(repo) == ["?? film.rdpipe.lock"]
    after = out_ignore.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert submits(online) == 2


def test_offline_runs_leave_git_status_clean(
    tmp_path: Path, online: SimServer, rdpipe_cli: Callable[..., Result]
) -> None:
    """An offline run first (it makes out/ and out/offline/, each ignored), then a paid run in
    the out/ it made: git shows nothing after the first, the lock file alone after the second."""
    repo = new_repo(tmp_path / "repo")
    pipeline = write(repo / "film.yaml", pipeline_text(SHOTS))
    commit_all(repo)

    ok(rdpipe_cli("run", str(pipeline), "--offline"))
    assert status(repo) == []
    assert (repo / "out" / "offline" / "film.mp4").is_file()
    assert (repo / "out" / "offline" / ".gitignore").read_text(encoding="utf-8") == IGNORE_ALL
    ok(rdpipe_cli("assemble", str(pipeline), "--offline"))
    assert status(repo) == []

    ok(rdpipe_cli("run", str(pipeline)))
    assert status(repo) == ["?? film.rdpipe.lock"]


def test_in_the_pipelines_own_folder_only_the_generated_folders_are_ignored(
    tmp_path: Path, online: SimServer, rdpipe_cli: Callable[..., Result]
) -> None:
    """`output: {path: film.mp4}`: no .gitignore in the pipeline's folder; clips/, .cache/,
    review/ and offline/ are ignored by their own; the pipeline, its lock file and its reference
    stay visible, and so do the video, its timeline, manifest, contact sheet and review page (the
    README says what to add). An assemble that downloads the deleted clips again makes them
    ignored again."""
    repo = new_repo(tmp_path / "repo")
    pipeline = write(repo / "film.yaml", IN_OWN_FOLDER)
    (repo / "refs").mkdir()
    Image.new("RGB", (640, 360), "orange").save(repo / "refs" / "kite.png")
    commit_all(repo)
    top_level = [
        "?? film.contact.png", "?? film.mp4", "?? film.otio", "?? film.rdpipe.lock",
        "?? manifest.json",
    ]  # fmt: skip

    ok(rdpipe_cli("run", str(pipeline)))
    assert status(repo) == top_level
    assert not (repo / ".gitignore").exists()
    assert ignored(repo, "film.yaml", "film.rdpipe.lock", "refs/kite.png") == []
    assert ignored(repo, "clips/coast", ".cache/clip-digests.jsonl") == [
        "clips/coast",
        ".cache/clip-digests.jsonl",
    ]

    ok(rdpipe_cli("review", str(pipeline), "--no-open"))
    assert (repo / "review" / ".gitignore").read_text(encoding="utf-8") == IGNORE_ALL
    assert status(repo) == [*top_level, "?? review.html"]

    shutil.rmtree(repo / "clips")
    shutil.rmtree(repo / ".cache")
    online.clear_observations()
    ok(rdpipe_cli("assemble", str(pipeline)))
    assert (repo / "clips" / ".gitignore").read_text(encoding="utf-8") == IGNORE_ALL
    assert (repo / ".cache" / ".gitignore").read_text(encoding="utf-8") == IGNORE_ALL
    assert submits(online) == 0
    ok(rdpipe_cli("run", str(pipeline), "--offline"))
    assert status(repo) == [*top_level, "?? review.html"]


def test_an_output_folder_of_the_users_keeps_their_files_and_gitignore(
    tmp_path: Path, online: SimServer, rdpipe_cli: Callable[..., Result]
) -> None:
    """`output: {path: renders/film.mp4}` into an existing folder with the user's notes and own
    .gitignore: both untouched to the byte; clips/ and .cache/ ignored by their own; the video,
    manifest and contact sheet left for the user to ignore."""
    repo = new_repo(tmp_path / "repo")
    text = pipeline_text(SHOTS).replace("out/film.mp4", "renders/film.mp4")
    pipeline = write(repo / "film.yaml", text)
    users_ignore = b"# mine\n*.tmp\r\n"
    write(repo / "renders" / "notes.txt", "cut 3 is the one")
    (repo / "renders" / ".gitignore").write_bytes(users_ignore)
    commit_all(repo)

    ok(rdpipe_cli("run", str(pipeline)))

    assert (repo / "renders" / ".gitignore").read_bytes() == users_ignore
    assert (repo / "renders" / "notes.txt").read_text(encoding="utf-8") == "cut 3 is the one"
    assert status(repo) == [
        "?? film.rdpipe.lock",
        "?? renders/film.contact.png",
        "?? renders/film.mp4",
        "?? renders/film.otio",
        "?? renders/manifest.json",
    ]
    assert (repo / "renders" / "clips" / ".gitignore").read_text(encoding="utf-8") == IGNORE_ALL
    assert (repo / "renders" / ".cache" / ".gitignore").read_text(encoding="utf-8") == IGNORE_ALL
