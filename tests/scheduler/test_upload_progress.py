"""An upload's progress as the note of the shot waiting on it (issue 16 §2): bytes of the total
and time left, about ten notes for a big file, one at the end; a retry counted from zero."""

from __future__ import annotations

from rdpipe.scheduler.upload_progress import UploadProgress

GB = 1_200_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _upload(size: int, chunks: int, seconds: float) -> list[str]:
    """Notes of an upload of ``size`` bytes in ``chunks`` equal chunks over ``seconds``."""
    clock, notes = Clock(), []
    progress = UploadProgress("clips/walk.mp4", size, notes.append, clock=clock)
    for chunk in range(1, chunks + 1):
        clock.now += seconds / chunks
        progress(min(size, size * chunk // chunks))
    return notes


def test_a_big_upload_says_bytes_share_and_time_left_about_ten_times() -> None:
    notes = _upload(GB, chunks=1200, seconds=60)
    assert notes[0] == "uploading clips/walk.mp4: 10% of 1.2 GB, 0:00:54 left"
    assert notes[4] == "uploading clips/walk.mp4: 50% of 1.2 GB, 0:00:30 left"
    assert notes[-1] == "uploaded clips/walk.mp4 (1.2 GB) in 0:01:00"
    assert len(notes) == 10


def test_a_fast_upload_says_only_its_end() -> None:
    """Under a second: no figures that would flash by, one line at the end."""
    assert _upload(15_500_000, chunks=16, seconds=0.2) == [
        "uploaded clips/walk.mp4 (15.5 MB) in 0:00:00"
    ]


def test_a_retry_from_the_start_is_counted_from_zero() -> None:
    clock, notes = Clock(), []
    progress = UploadProgress("a.mp4", 1_000_000_000, notes.append, clock=clock)
    clock.now += 10
    progress(500_000_000)
    clock.now += 1
    progress(0)  # the PUT failed and starts again
    clock.now += 5
    progress(250_000_000)
    clock.now += 15
    progress(1_000_000_000)
    progress(1_000_000_000)  # said once
    assert notes == [
        "uploading a.mp4: 50% of 1.0 GB, 0:00:10 left",
        "uploading a.mp4: 25% of 1.0 GB, 0:00:15 left",
        "uploaded a.mp4 (1.0 GB) in 0:00:20",
    ]
