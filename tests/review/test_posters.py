"""Poster frames and tile sizes come from the clip as a viewer sees it (rotation applied)."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageStat

from rdpipe.ffmpeg_path import find_ffmpeg
from rdpipe.review.posters import clip_look
from tests.assemble.oriented import PhoneClip, make_phone_clip
from tests.review.review_tree import make_sim_clip


def test_a_phone_clip_stored_sideways_gets_an_upright_tall_poster(tmp_path: Path) -> None:
    """A clip stored 320x180 with a 90° display matrix measures 180x320 and its poster is
    upright: 180x320 with the red corner at the top left, where a player shows it."""
    clip = make_phone_clip(
        find_ffmpeg(os.environ), PhoneClip("phone", 180, 320, rotation=90), tmp_path
    )
    look = clip_look(clip, tmp_path / "review" / "posters")
    assert look is not None
    assert (look.width, look.height) == (180, 320)
    assert abs(look.duration - 2.0) < 0.05
    with Image.open(look.poster) as poster:
        assert poster.format == "JPEG" and poster.size == (180, 320)
        red, green, _blue = ImageStat.Stat(poster.convert("RGB").crop((5, 5, 35, 60))).mean
        assert red > 180 and green < 80
    assert (tmp_path / "review" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_poster_is_made_once_per_clip_version(tmp_path: Path) -> None:
    """The second look reads the cache (same file, untouched); a changed clip gets a new one."""
    clip = tmp_path / "tall.mp4"
    make_sim_clip(clip, 480, 864, "A tall lighthouse")
    first = clip_look(clip, tmp_path / "posters")
    assert first is not None and (first.width, first.height) == (480, 864)
    made = first.poster.stat().st_mtime_ns
    again = clip_look(clip, tmp_path / "posters")
    assert again == first and first.poster.stat().st_mtime_ns == made
    make_sim_clip(clip, 864, 480, "A wide lighthouse")
    changed = clip_look(clip, tmp_path / "posters")
    assert changed is not None and changed.poster != first.poster
    assert (changed.width, changed.height) == (864, 480)


def test_an_unreadable_clip_has_no_poster(tmp_path: Path) -> None:
    """A file that is not a video, or no file, gives None (the tile shows no poster)."""
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    assert clip_look(broken, tmp_path / "posters") is None
    assert clip_look(tmp_path / "missing.mp4", tmp_path / "posters") is None
    assert not (tmp_path / "posters").exists()
