"""make_ignored_folder: a folder rdpipe makes comes with a .gitignore of '*', once, atomically;
a folder that exists is never touched."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from rdpipe.files import GENERATED_NOTE, make_ignored_folder

IGNORE_ALL = f"# {GENERATED_NOTE}\n*\n".encode()


def test_a_missing_folder_and_its_missing_parents_each_get_a_gitignore(tmp_path: Path) -> None:
    """out/offline made from nothing: both folders hold a .gitignore of '*' and nothing else."""
    folder = tmp_path / "out" / "offline"

    assert make_ignored_folder(folder) is True

    assert (folder / ".gitignore").read_bytes() == IGNORE_ALL
    assert (tmp_path / "out" / ".gitignore").read_bytes() == IGNORE_ALL
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".gitignore", "offline"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary left


def test_a_folder_made_once_is_not_written_again(tmp_path: Path) -> None:
    """The second call finds the folder and writes nothing: the .gitignore keeps its inode,
    its mtime and a user's edit."""
    folder = tmp_path / ".cache"
    make_ignored_folder(folder)
    ignore = folder / ".gitignore"
    ignore.write_text("*\n!keep.txt\n", encoding="utf-8")
    before = ignore.stat()

    assert make_ignored_folder(folder) is False

    after = ignore.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert ignore.read_text(encoding="utf-8") == "*\n!keep.txt\n"


def test_a_folder_that_exists_gets_nothing_even_empty_or_without_a_gitignore(
    tmp_path: Path,
) -> None:
    """An existing folder is the user's (or an older rdpipe's): left exactly as it is."""
    empty = tmp_path / "renders"
    empty.mkdir()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")

    assert make_ignored_folder(empty) is False
    assert make_ignored_folder(mine) is False

    assert list(empty.iterdir()) == []
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_a_file_in_the_way_raises_naming_the_folder_and_leaves_nothing(tmp_path: Path) -> None:
    """A file where the folder goes: NotADirectoryError naming the folder, not a temporary
    name; no temporary folder is left beside it."""
    folder = tmp_path / "out"
    folder.write_text("not a folder", encoding="utf-8")

    with pytest.raises(NotADirectoryError) as raised:
        make_ignored_folder(folder)

    assert raised.value.filename == str(folder)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert folder.read_text(encoding="utf-8") == "not a folder"


def test_racing_makers_make_it_once(tmp_path: Path) -> None:
    """Eight threads making clips/ at once: one made it, all return, one .gitignore, no
    temporary folder left."""
    folder = tmp_path / "out" / "clips"
    start = threading.Barrier(8)
    made: list[bool] = []
    errors: list[BaseException] = []

    def make() -> None:
        start.wait()
        try:
            made.append(make_ignored_folder(folder))
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(made) == [False] * 7 + [True]
    assert [p.name for p in folder.iterdir()] == [".gitignore"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".gitignore", "clips"]
