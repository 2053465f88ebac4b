"""Media verdicts are kept by content, one appended line each, and read back by a later run."""

from __future__ import annotations

import json
from pathlib import Path

from rdpipe.state import MediaVerdict, MediaVerdicts

WHOLE, CUT, OTHER = "a" * 64, "b" * 64, "c" * 64
FILE = "media-verdicts.jsonl"


def lines(cache: Path) -> list[object]:
    return [json.loads(line) for line in (cache / FILE).read_text().splitlines()]


def test_each_verdict_appends_one_line_a_later_run_reads(tmp_path: Path) -> None:
    """A verdict is one line appended (the file is never rewritten for it); a new instance, as
    the next run opens, recalls every verdict; the same verdict again writes nothing."""
    verdicts = MediaVerdicts(tmp_path)
    verdicts.remember(WHOLE, MediaVerdict())
    inode = (tmp_path / FILE).stat().st_ino
    verdicts.remember(CUT, MediaVerdict("it holds 24 of its 48 video frames"))
    verdicts.remember(WHOLE, MediaVerdict())

    assert lines(tmp_path) == [[1, WHOLE, None], [1, CUT, "it holds 24 of its 48 video frames"]]
    assert (tmp_path / FILE).stat().st_ino == inode, "appended, not replaced"
    again = MediaVerdicts(tmp_path)
    assert again.recall(WHOLE) == MediaVerdict()
    assert again.recall(CUT) == MediaVerdict("it holds 24 of its 48 video frames")
    assert again.recall(OTHER) is None


def test_a_torn_last_line_and_other_versions_count_as_no_verdict(tmp_path: Path) -> None:
    """A killed run's half line is skipped and ended before the next line; a line of another
    version of the check is not trusted."""
    (tmp_path / FILE).write_text(f'[1, "{WHOLE}", null]\n[2, "{OTHER}", null]\n[1, "{CUT}"')
    verdicts = MediaVerdicts(tmp_path)
    assert (verdicts.recall(WHOLE), verdicts.recall(CUT), verdicts.recall(OTHER)) == (
        MediaVerdict(), None, None
    )  # fmt: skip
    verdicts.remember(OTHER, MediaVerdict())
    assert MediaVerdicts(tmp_path).recall(OTHER) == MediaVerdict()


def test_verdicts_of_an_older_rdpipe_are_taken_over_once(tmp_path: Path) -> None:
    """The media.json an older rdpipe rewrote after every verdict is copied into the lines file
    and removed, so no clip's media is checked again after an upgrade."""
    legacy = {"version": 1, "sha256": {WHOLE: None, CUT: "cut short"}}
    (tmp_path / "media.json").write_text(json.dumps(legacy))
    verdicts = MediaVerdicts(tmp_path)
    assert (verdicts.recall(WHOLE), verdicts.recall(CUT)) == (
        MediaVerdict(),
        MediaVerdict("cut short"),
    )
    assert not (tmp_path / "media.json").exists()
    assert sorted(map(str, lines(tmp_path))) == sorted(
        map(str, [[1, WHOLE, None], [1, CUT, "cut short"]])
    )


def test_the_file_is_compacted(tmp_path: Path) -> None:
    """Verdicts written again and again (by runs at once) do not grow the file without bound."""
    for number in range(200):
        MediaVerdicts(tmp_path).remember(WHOLE, MediaVerdict(f"problem {number % 2}"))
    assert len(lines(tmp_path)) <= 1 + 64 + 2
    assert MediaVerdicts(tmp_path).recall(WHOLE) == MediaVerdict("problem 1")


def test_without_a_writable_file_verdicts_are_kept_in_memory(tmp_path: Path) -> None:
    """A file that cannot be written (a folder in its place, a read-only checkout) costs no
    error: this process remembers its verdicts anyway."""
    (tmp_path / FILE).mkdir()
    verdicts = MediaVerdicts(tmp_path)
    verdicts.remember(WHOLE, MediaVerdict())
    assert verdicts.recall(WHOLE) == MediaVerdict()
    assert MediaVerdicts(tmp_path).recall(WHOLE) is None
