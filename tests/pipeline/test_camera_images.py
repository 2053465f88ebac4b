"""Reference images as cameras and phones write them: the exact image each request carries.

Each test builds a file, renders a one-shot pipeline and decodes the ``first_frame`` data URL of
the request body (its MIME type, bytes, format, size and pixels), or checks the exact message
``rdpipe validate`` prints. The HEIC files in ``camera/`` were written once with pillow-heif 1.8.1
(rdpipe only reads HEIC, through pi-heif, which cannot write it): a 400x300 red picture with a
blue 100x100 square at the top left, ``quality=90``; ``rotated.heic`` with EXIF orientation 6
(stored with an ``irot`` transform), ``alpha.heic`` in RGBA with its bottom-right 100x100
transparent.
"""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from PIL import Image, ImageChops, features

from rdpipe.prepare.images import primary_jpeg, read_picture
from rdpipe.prepare.pipeline import prepare_pipeline
from tests.pipeline.requests import HEAD, TAIL

CAMERA = Path(__file__).parent / "camera"
RED, BLUE, GREEN = (200, 30, 30), (30, 30, 200), (30, 200, 30)
MakeTree = Callable[[dict[str, object]], Path]
#: The largest channel difference a JPEG re-encode at quality 95 leaves (ringing along the edges).
JPEG_TOLERANCE = 12


def picture(mode: str = "RGB", size: tuple[int, int] = (400, 300)) -> Image.Image:
    """Red with a blue square at the top left: every EXIF orientation moves it somewhere else."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (0, 0, 100, 100))
    return image.convert(mode)


def encoded(image: Image.Image, fmt: str, orientation: int = 1, **options: object) -> bytes:
    """``image`` written as ``fmt``, with an EXIF orientation tag unless it is 1."""
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def sent_image(make_tree: MakeTree, data: bytes, name: str = "ref.jpg") -> tuple[str, bytes]:
    """The MIME type and decoded bytes of the data URL a shot with ``data`` as first frame sends."""
    make_tree(
        {"sb.yaml": HEAD + f"shots:\n  - {{id: a, prompt: x, first_frame: {name}}}\n", name: data}
    )
    shot = prepare_pipeline(Path("sb.yaml")).shots[0]
    url = shot.request.metadata.content[0].url
    header, payload = url.split(",", 1)
    assert header.startswith("data:") and header.endswith(";base64")
    return header.removeprefix("data:").removesuffix(";base64"), base64.b64decode(payload)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def difference(first: Image.Image, second: Image.Image) -> int:
    """The largest difference of any channel of any pixel between two same-sized pictures."""
    assert first.size == second.size
    extrema = ImageChops.difference(first.convert("RGB"), second.convert("RGB")).getextrema()
    return max(high for _, high in extrema)  # type: ignore[misc]


def blue_corner(image: Image.Image) -> str:
    """Which corner of ``image`` holds the blue square."""
    width, height = image.size
    corners = {
        "top-left": (10, 10),
        "top-right": (width - 11, 10),
        "bottom-left": (10, height - 11),
        "bottom-right": (width - 11, height - 11),
    }
    rgb = image.convert("RGB")
    found = [name for name, xy in corners.items() if rgb.getpixel(xy)[2] > 150]  # type: ignore[index]
    assert len(found) == 1, found
    return found[0]


def validate_error(cli: Callable[..., Result]) -> str:
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.endswith(TAIL)
    return result.stderr.removeprefix("error: ").removesuffix(TAIL)


# Files sent byte for byte: their data URL (and so the shot's cache key) stays what it was.
UNCHANGED = {
    "baseline JPEG": lambda: encoded(picture(), "JPEG", quality=90),
    "JPEG with orientation 1": lambda: encoded(picture(), "JPEG", orientation=1),
    "progressive JPEG": lambda: encoded(picture(), "JPEG", progressive=True),
    "grayscale JPEG": lambda: encoded(picture("L"), "JPEG"),
    "RGB PNG": lambda: encoded(picture(), "PNG"),
    "PNG with alpha": lambda: encoded(_with_hole(picture("RGBA")), "PNG"),
    "palette PNG": lambda: encoded(picture("P"), "PNG"),
    "grayscale PNG": lambda: encoded(picture("L"), "PNG"),
    "16-bit PNG": lambda: encoded(Image.new("I;16", (400, 300), 40000), "PNG"),
    "WebP": lambda: encoded(picture(), "WEBP", lossless=True),
    "BMP": lambda: encoded(picture(), "BMP"),
    "TIFF": lambda: encoded(picture(), "TIFF"),
    "GIF": lambda: encoded(picture(), "GIF"),
}


def _with_hole(image: Image.Image) -> Image.Image:
    image.paste((0, 0, 0, 0), (300, 200, 400, 300))
    return image


@pytest.mark.parametrize("kind", list(UNCHANGED))
def test_files_the_api_takes_are_sent_byte_for_byte(kind: str, make_tree: MakeTree) -> None:
    """Upright, non-CMYK files in a format the API lists keep their exact bytes (and cache key)."""
    data = UNCHANGED[kind]()
    fmt = opened(data).format
    mime, sent = sent_image(make_tree, data)
    assert sent == data
    assert mime == f"image/{str(fmt).lower()}"


def test_mpo_sends_its_primary_jpeg_cut_out_unchanged(make_tree: MakeTree) -> None:
    """A camera's MPO is sent as its first picture's own JPEG bytes, minus the MPF index only."""
    buffer = io.BytesIO()
    picture().save(
        buffer,
        format="MPO",
        save_all=True,
        append_images=[picture().transpose(Image.Transpose.ROTATE_180)],
        comment=b"\xff\xd9\xff\xd8 markers inside a segment are not the end",
    )
    data = buffer.getvalue()
    with Image.open(io.BytesIO(data)) as mpo:
        assert (mpo.format, getattr(mpo, "n_frames", 1)) == ("MPO", 2)
        primary = mpo.convert("RGB")
    mime, sent = sent_image(make_tree, data)
    mpf_start = data.index(b"\xff\xe2\x00")
    assert data[mpf_start + 4 : mpf_start + 8] == b"MPF\0"
    mpf_end = mpf_start + 2 + int.from_bytes(data[mpf_start + 2 : mpf_start + 4], "big")
    cut = len(sent) + (mpf_end - mpf_start)
    assert mime == "image/jpeg"
    assert sent == data[:mpf_start] + data[mpf_end:cut]
    assert sent.endswith(b"\xff\xd9") and cut < len(data) and data[cut : cut + 2] == b"\xff\xd8"
    image = opened(sent)
    assert (image.format, getattr(image, "n_frames", 1)) == ("JPEG", 1)
    assert image.tobytes() == primary.tobytes()


@pytest.mark.parametrize(
    "options",
    [{"progressive": True}, {"restart_marker_blocks": 1}],
    ids=["progressive", "restarts"],
)
def test_cutting_the_first_picture_walks_every_scan(options: dict[str, object]) -> None:
    """The MPO cutter keeps a whole JPEG whole: many scans, or restart markers inside a scan."""
    buffer = io.BytesIO()
    picture().save(buffer, format="JPEG", quality=90, **options)
    data = buffer.getvalue()
    assert primary_jpeg(data) == data


def test_mpo_turned_on_its_side_is_sent_upright(make_tree: MakeTree) -> None:
    """An MPO with EXIF orientation 6 sends its primary picture turned upright, as JPEG."""
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    picture().save(
        buffer, format="MPO", save_all=True, append_images=[picture()], exif=exif.tobytes()
    )
    mime, sent = sent_image(make_tree, buffer.getvalue())
    image = opened(sent)
    assert (mime, image.format, image.size) == ("image/jpeg", "JPEG", (300, 400))
    assert blue_corner(image) == "top-right"


#: EXIF orientation -> the upright picture's size and where the top-left blue square ends up.
ORIENTATIONS = {
    2: ((400, 300), "top-right"),
    3: ((400, 300), "bottom-right"),
    4: ((400, 300), "bottom-left"),
    5: ((300, 400), "top-left"),
    6: ((300, 400), "top-right"),
    7: ((300, 400), "bottom-right"),
    8: ((300, 400), "bottom-left"),
}


@pytest.mark.parametrize("orientation", list(ORIENTATIONS))
def test_exif_rotated_jpeg_is_sent_upright(orientation: int, make_tree: MakeTree) -> None:
    """A JPEG stored sideways is sent as the picture viewers show, without its EXIF block."""
    mime, sent = sent_image(make_tree, encoded(picture(), "JPEG", orientation, quality=95))
    image = opened(sent)
    size, corner = ORIENTATIONS[orientation]
    assert (mime, image.format, image.mode, image.size) == ("image/jpeg", "JPEG", "RGB", size)
    assert blue_corner(image) == corner
    assert dict(image.getexif()) == {}


def test_xmp_orientation_alone_is_not_obeyed(make_tree: MakeTree) -> None:
    """An XMP tiff:Orientation without an EXIF one is ignored, as viewers do: sent as is."""
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description tiff:Orientation="6"/></x:xmpmeta>'
    data = encoded(picture(), "JPEG", xmp=xmp)
    with Image.open(io.BytesIO(data)) as image:
        assert image.getexif().get(0x0112) == 6  # what Pillow's exif_transpose would obey
    assert sent_image(make_tree, data) == ("image/jpeg", data)


def test_exif_rotated_png_stays_lossless(make_tree: MakeTree) -> None:
    """A PNG with an EXIF orientation is turned upright and sent as PNG, pixel for pixel."""
    mime, sent = sent_image(make_tree, encoded(picture(), "PNG", 8), name="ref.png")
    image = opened(sent)
    assert (mime, image.format, image.size) == ("image/png", "PNG", (300, 400))
    assert image.tobytes() == picture().transpose(Image.Transpose.ROTATE_90).tobytes()


def test_size_limits_apply_to_the_displayed_picture(
    make_tree: MakeTree, cli: Callable[..., Result]
) -> None:
    """A sideways 1800x600 file is checked (and reported) as the 600x1800 picture it shows."""
    make_tree(
        {
            "sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, first_frame: r.jpg}\n",
            "r.jpg": encoded(picture(size=(1800, 600)), "JPEG", 6),
        }
    )
    assert validate_error(cli) == (
        "sb.yaml:5:37: shots[0].first_frame: 'r.jpg' (600x1800 as displayed; stored 1800x600 "
        "with EXIF orientation 6): aspect ratio 0.33 is outside 0.4-2.5"
    )


def test_adobe_cmyk_jpeg_is_sent_as_srgb(make_tree: MakeTree) -> None:
    """A print-ready (Adobe, inverted) CMYK JPEG is sent as an sRGB JPEG of the same colours."""
    cmyk = Image.new("CMYK", (400, 300), (0, 255, 255, 0))  # pure red ink
    cmyk.paste((255, 255, 0, 0), (0, 0, 100, 100))  # cyan + magenta: blue
    data = encoded(cmyk, "JPEG", quality=95)
    assert opened(data).info.get("adobe") is not None
    mime, sent = sent_image(make_tree, data)
    image = opened(sent)
    assert (mime, image.format, image.mode, image.size) == ("image/jpeg", "JPEG", "RGB", (400, 300))
    assert difference(image, picture().point(lambda v: 255 if v > 100 else 0)) <= JPEG_TOLERANCE


def test_cmyk_tiff_is_sent_as_lossless_png(make_tree: MakeTree) -> None:
    """A CMYK TIFF is sent as an RGB PNG: no lossy step is added to a lossless file."""
    cmyk = Image.new("CMYK", (400, 300), (0, 255, 255, 0))
    cmyk.paste((255, 255, 0, 0), (0, 0, 100, 100))
    mime, sent = sent_image(make_tree, encoded(cmyk, "TIFF"), "print.tif")
    image = opened(sent)
    assert (mime, image.format, image.mode) == ("image/png", "PNG", "RGB")
    assert image.tobytes() == picture().point(lambda v: 255 if v > 100 else 0).tobytes()


def _swapped_profile() -> bytes:
    """A valid ICC matrix profile whose red and green primaries are sRGB's green and red."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + struct.pack(">iii", *(round(v * 65536) for v in (x, y, z)))

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"  # gamma 2.2
    text = b"red and green swapped\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + bytes(79)
    desc += bytes(-len(desc) % 4)
    tags = {
        b"desc": desc,
        b"wtpt": xyz(0.9642, 1.0, 0.8249),
        b"rXYZ": xyz(0.3851, 0.7169, 0.0971),
        b"gXYZ": xyz(0.4361, 0.2225, 0.0139),
        b"bXYZ": xyz(0.1431, 0.0606, 0.7141),
        b"rTRC": curve,
        b"gTRC": curve,
        b"bTRC": curve,
    }
    offset, table, body = 132 + 12 * len(tags), b"", b""
    for signature, data in tags.items():
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = struct.pack(">I4xI", offset + len(body), 0x02100000) + b"mntrRGB XYZ " + bytes(12)
    header += b"acsp" + bytes(28) + xyz(0.9642, 1.0, 0.8249)[8:]
    return header + bytes(128 - len(header)) + struct.pack(">I", len(tags)) + table + body


def test_colour_profile_is_applied_when_the_picture_is_reencoded(make_tree: MakeTree) -> None:
    """A sideways JPEG is re-encoded in sRGB through its ICC profile (here: red shows green)."""
    data = encoded(picture(), "JPEG", 3, quality=95, icc_profile=_swapped_profile())
    mime, sent = sent_image(make_tree, data)
    image = opened(sent)
    assert (mime, image.size, image.info.get("icc_profile")) == ("image/jpeg", (400, 300), None)
    red, green, _ = image.getpixel((200, 150))  # type: ignore[misc]
    assert green > 150 and red < 80


def test_colour_profile_of_an_upright_file_travels_with_it(make_tree: MakeTree) -> None:
    """An upright JPEG with an ICC profile is sent byte for byte, its profile embedded."""
    data = encoded(picture(), "JPEG", icc_profile=_swapped_profile())
    assert sent_image(make_tree, data) == ("image/jpeg", data)


def _heif_decoded(name: str) -> Image.Image:
    import pi_heif

    pi_heif.register_heif_opener()
    return opened((CAMERA / name).read_bytes())


def test_heic_is_sent_as_jpeg(make_tree: MakeTree) -> None:
    """An iPhone's HEIC picture is decoded (pi-heif) and sent as the same picture in JPEG."""
    mime, sent = sent_image(make_tree, (CAMERA / "upright.heic").read_bytes(), "p.heic")
    image = opened(sent)
    assert (mime, image.format, image.mode, image.size) == ("image/jpeg", "JPEG", "RGB", (400, 300))
    assert difference(image, _heif_decoded("upright.heic")) <= JPEG_TOLERANCE
    assert blue_corner(image) == "top-left"


def test_rotated_heic_is_sent_upright(make_tree: MakeTree) -> None:
    """A HEIC stored with a rotation is sent as the upright 300x400 picture its viewer shows."""
    mime, sent = sent_image(make_tree, (CAMERA / "rotated.heic").read_bytes(), "p.heic")
    image = opened(sent)
    assert (mime, image.size, blue_corner(image)) == ("image/jpeg", (300, 400), "top-right")


def test_heic_with_transparency_is_sent_as_png(make_tree: MakeTree) -> None:
    """A HEIC with an alpha channel becomes an RGBA PNG with exactly the decoded pixels."""
    mime, sent = sent_image(make_tree, (CAMERA / "alpha.heic").read_bytes(), "p.heic")
    image = opened(sent)
    assert (mime, image.format, image.mode) == ("image/png", "PNG", "RGBA")
    assert image.tobytes() == _heif_decoded("alpha.heic").tobytes()
    assert image.getpixel((399, 299)) == (0, 0, 0, 0)


needs_avif = pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")


@needs_avif
def test_avif_is_sent_upright_as_jpeg(make_tree: MakeTree) -> None:
    """An AVIF with EXIF orientation 6 is sent as the upright picture, in JPEG."""
    data = encoded(picture(), "AVIF", 6, quality=90)
    mime, sent = sent_image(make_tree, data, "p.avif")
    image = opened(sent)
    assert (mime, image.format, image.size, blue_corner(image)) == (
        "image/jpeg",
        "JPEG",
        (300, 400),
        "top-right",
    )


def _converted_hashes(paths: list[Path]) -> list[str]:
    return [hashlib.sha256(read_picture(p.read_bytes()).for_api()[0]).hexdigest() for p in paths]


def test_conversions_are_deterministic(tmp_path: Path) -> None:
    """Converted pictures come out byte-identical every time, in this process and a fresh one."""
    cmyk = Image.new("CMYK", (400, 300), (0, 200, 255, 10))
    files = {
        "upright.heic": (CAMERA / "upright.heic").read_bytes(),
        "alpha.heic": (CAMERA / "alpha.heic").read_bytes(),
        "cmyk.jpg": encoded(cmyk, "JPEG"),
        "rotated.jpg": encoded(picture(), "JPEG", 6, icc_profile=_swapped_profile()),
        "rotated.png": encoded(picture(), "PNG", 5),
    }
    if features.check("avif"):
        files["rotated.avif"] = encoded(picture(), "AVIF", 8)
    paths = []
    for name, data in files.items():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(data)
    here = _converted_hashes(paths)
    assert _converted_hashes(paths) == here
    script = (
        "import sys; from pathlib import Path; "
        "from tests.pipeline.test_camera_images import _converted_hashes as h; "
        "print(' '.join(h([Path(p) for p in sys.argv[1:]])))"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script, *map(str, paths)],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert fresh.stdout.split() == here


def test_heic_without_pi_heif_says_what_to_install(
    make_tree: MakeTree, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without pi-heif, a HEIC reference is refused with what to install or do instead."""
    monkeypatch.setitem(sys.modules, "pi_heif", None)
    monkeypatch.setattr(Image, "ID", [name for name in Image.ID if name != "HEIF"])
    make_tree(
        {
            "sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, first_frame: refs/IMG_0001.HEIC}\n",
            "refs/IMG_0001.HEIC": (CAMERA / "upright.heic").read_bytes(),
        }
    )
    assert validate_error(cli) == (
        "sb.yaml:5:37: shots[0].first_frame: 'refs/IMG_0001.HEIC' is HEIC/HEIF, which rdpipe "
        "reads with the pi-heif package; install it (pip install pi-heif) or export the picture "
        "as JPEG"
    )


@needs_avif
def test_avif_without_pillow_support_says_what_to_do(
    make_tree: MakeTree, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a Pillow built without AVIF, an AVIF reference is refused with the way out."""
    data = encoded(picture(), "AVIF")
    monkeypatch.setattr(Image, "ID", [name for name in Image.ID if name != "AVIF"])
    make_tree(
        {"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, first_frame: p.avif}\n", "p.avif": data}
    )
    assert validate_error(cli) == (
        "sb.yaml:5:37: shots[0].first_frame: 'p.avif' is AVIF, which this installation of "
        "Pillow cannot read; upgrade Pillow (11.3 and newer read it) or export the picture as JPEG"
    )


def test_truncated_mpo_is_reported(make_tree: MakeTree, cli: Callable[..., Result]) -> None:
    """An MPO cut short inside its first picture is an error, not a half picture sent."""
    buffer = io.BytesIO()
    picture().save(buffer, format="MPO", save_all=True, append_images=[picture()])
    data = buffer.getvalue()
    make_tree(
        {
            "sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, first_frame: c.jpg}\n",
            "c.jpg": data[: data.index(b"\xff\xda") + 200],
        }
    )
    assert validate_error(cli) == (
        "sb.yaml:5:37: shots[0].first_frame: 'c.jpg' is not an image rdpipe can read (its first "
        "picture is cut short)"
    )


def test_truncated_sideways_jpeg_is_reported(
    make_tree: MakeTree, cli: Callable[..., Result]
) -> None:
    """A sideways JPEG whose pixels do not decode cannot be turned upright: an error."""
    data = encoded(picture(), "JPEG", 6)
    make_tree(
        {
            "sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, first_frame: t.jpg}\n",
            "t.jpg": data[: data.index(b"\xff\xda") + 100],
        }
    )
    assert validate_error(cli) == (
        "sb.yaml:5:37: shots[0].first_frame: 't.jpg' is not an image rdpipe can read (its pixels "
        "do not decode)"
    )
