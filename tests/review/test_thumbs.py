"""Thumbnails of reference pictures show them the way up a viewer (and the API) sees them."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps, ImageStat

from rdpipe.review.thumbs import make_thumbnail


def test_an_exif_rotated_photo_gets_an_upright_thumbnail(tmp_path: Path) -> None:
    """A phone photo stored sideways with EXIF orientation 6 gets a portrait thumbnail whose red
    corner is at the top left, as every viewer shows the photo (issue 11 §1)."""
    shown = Image.new("RGB", (480, 640), (128, 128, 128))
    shown.paste((255, 0, 0), (0, 0, 120, 160))
    exif = Image.Exif()
    exif[0x0112] = 6  # turn 90° clockwise to show
    photo = tmp_path / "photo.jpg"
    shown.rotate(90, expand=True).save(photo, exif=exif, quality=95)
    with Image.open(photo) as stored:
        assert ImageOps.exif_transpose(stored).size == (480, 640)  # the file is what we meant
    thumb = make_thumbnail(photo, tmp_path / "thumbs")
    assert thumb is not None
    with Image.open(thumb) as image:
        assert image.size == (240, 320)
        red, green, _blue = ImageStat.Stat(image.convert("RGB").crop((0, 0, 40, 50))).mean
        assert red > 200 and green < 60
