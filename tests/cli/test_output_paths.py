"""A user-named output path rdpipe cannot write is one paragraph naming it, exit 2, no crash."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_process import environment, run_rdpipe


def test_schema_into_a_missing_folder_names_the_path_and_the_folder(tmp_path: Path) -> None:
    """`schema -o missing/dir/x.json`: says which folder is missing and how to make it."""
    result = run_rdpipe(
        "schema", "-o", "missing/dir/x.json", cwd=tmp_path, env=environment(tmp_path)
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: rdpipe cannot write missing/dir/x.json: the folder missing/dir does not exist. "
        "Create it (mkdir -p missing/dir) or give another path, then run the same command "
        "again; nothing was sent.\n"
    )
    assert not (tmp_path / "missing").exists()


def test_schema_onto_a_folder_or_under_a_file_says_what_is_in_the_way(tmp_path: Path) -> None:
    """A folder where the file should be, or a file where a folder should be: exit 2, said."""
    (tmp_path / "taken").mkdir()
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    env = environment(tmp_path)
    folder = run_rdpipe("schema", "-o", "taken", cwd=tmp_path, env=env)
    assert (folder.returncode, folder.stderr) == (
        2,
        "error: rdpipe cannot write taken: a folder is in the way of the file. Remove or rename "
        "that folder, then run the same command again; nothing was sent.\n",
    )
    under = run_rdpipe("schema", "--output", "plain/x.json", cwd=tmp_path, env=env)
    assert under.returncode == 2
    assert under.stderr.startswith(
        "error: rdpipe cannot write plain/x.json: a file is in the way of a folder on that path."
    )
    assert "unexpected error" not in folder.stderr + under.stderr


def test_schema_to_a_writable_path_writes_the_schema(tmp_path: Path) -> None:
    """The same command into an existing folder writes the JSON Schema and prints nothing."""
    (tmp_path / "dir").mkdir()
    result = run_rdpipe("schema", "-o", "dir/x.json", cwd=tmp_path, env=environment(tmp_path))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert json.loads((tmp_path / "dir" / "x.json").read_text(encoding="utf-8"))["title"]
