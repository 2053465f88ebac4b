"""Reference pictures as cameras and phones write them, turned into bytes the API accepts.

The API takes jpeg, png, webp, bmp, tiff and gif (relaydance-api.md §1) and most likely decodes
them without looking at EXIF orientation or colour profiles. The rule here: the picture the API
sees is the picture the user sees. A file the API takes, stored upright and not in CMYK, is sent
byte for byte: its data URL is part of the shot's cache key, so such a file keeps its key.

- Progressive JPEG, grayscale, palette and 16-bit PNG: sent as they are; they are formats the API
  lists and every decoder reads them.
- PNG (or WebP, TIFF, GIF) with transparency: sent as it is, not flattened. A cut-out product on
  transparency is a common reference; flattening would put it on a background the user never
  chose (and would change the key of every such reference already in use).
- MPO, the multi-picture JPEG many cameras write: every JPEG decoder shows its primary picture,
  so that picture's own JPEG bytes are cut out unchanged; only the MPF index segment, which
  points at the pictures cut away, is dropped. Nothing is re-encoded.
- EXIF orientation 2-8: viewers turn the picture upright, so its pixels are turned upright (with
  ``ImageOps.exif_transpose``'s table) and re-encoded; the size limits apply to the upright size.
  Only the EXIF tag counts: Pillow would also obey an XMP ``tiff:Orientation``, which browsers
  and photo viewers ignore, and a PNG's ``eXIf`` chunk counts only before the pixel data (where
  the PNG specification puts it; looking after it would decode every PNG on every run).
- CMYK (print JPEGs and TIFFs; Pillow undoes Adobe's inverted CMYK when reading): converted to
  sRGB through the file's ICC profile, or with Pillow's formula when it has none.
- HEIC/HEIF (iPhones' default, read with pi-heif, which also applies the file's rotation) and
  AVIF (read by Pillow 11.3 and newer): decoded and re-encoded.

Re-encoding writes PNG when the picture has transparency or came from a lossless format, else
JPEG at quality 95 without chroma subsampling. An embedded ICC profile is applied (to sRGB) and
no metadata is written, so EXIF (GPS position included) is not sent. Decoders and encoders here
use no clock and no randomness: the same file gives the same bytes, hence the same cache key, on
every run; only an upgrade of Pillow's JPEG or PNG encoder could change them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdpipe.errors import RdpipeError

if TYPE_CHECKING:
    from PIL import Image

#: Pillow format name -> MIME type, for the formats the API accepts.
API_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "GIF": "image/gif",
}
#: Formats the API does not list that rdpipe turns into one it does (see the module docstring).
CONVERTED_FORMATS = ("MPO", "HEIF", "AVIF")
_LOSSLESS_FORMATS = frozenset({"PNG", "BMP", "TIFF", "GIF"})
_PNG_MODES = frozenset({"1", "L", "P", "RGB", "I;16"})
_ORIENTATION_TAG = 0x0112
#: EXIF orientation -> the ``Image.Transpose`` member that turns the stored pixels upright.
_UPRIGHT = {
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}
_SIDES_SWAPPED = frozenset({5, 6, 7, 8})
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


class UnreadableImage(RdpipeError):
    """A file rdpipe cannot read as a picture; ``detail`` follows the file's name in messages."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"the file {detail}")


@dataclass(frozen=True)
class Picture:
    """A local image file as read: its format, the size it is shown at, and how it is stored."""

    data: bytes
    format: str  #: Pillow's name: "JPEG", "MPO", "HEIF"...
    size: tuple[int, int]  #: width and height as displayed (upright)
    orientation: int  #: EXIF orientation, 1 when stored upright
    mode: str

    def describe_size(self) -> str:
        """``"600x1800"``, saying so when EXIF rotation makes it differ from the stored size."""
        width, height = self.size
        if self.orientation not in _SIDES_SWAPPED:
            return f"{width}x{height}"
        return (
            f"{width}x{height} as displayed; stored {height}x{width} "
            f"with EXIF orientation {self.orientation}"
        )

    def for_api(self) -> tuple[bytes, str]:
        """The bytes to send and their MIME type: the file itself whenever the API takes it."""
        data, kind = self.data, self.format
        if kind == "MPO":
            data, kind = primary_jpeg(data), "JPEG"
        if kind in API_FORMATS and self.orientation == 1 and self.mode != "CMYK":
            return data, API_FORMATS[kind]
        return _reencode(data, self.orientation, lossless=kind in _LOSSLESS_FORMATS)


def read_picture(data: bytes) -> Picture:
    """Read a file's format, displayed size and orientation without decoding its pixels."""
    with _open(data) as image:
        orientation = _orientation(image)
        width, height = image.size
        if orientation in _SIDES_SWAPPED:
            width, height = height, width
        return Picture(data, image.format or "", (width, height), orientation, image.mode)


def primary_jpeg(data: bytes) -> bytes:
    """The first picture of an MPO file: its JPEG segments up to its EOI, minus the MPF index.

    Segments are walked by their lengths (so the EXIF thumbnail's own markers are skipped) and
    entropy-coded scans up to the next marker that is not a restart or a stuffed 0xFF.
    """
    if data[:2] != b"\xff\xd8":
        raise UnreadableImage("is not an image rdpipe can read (no JPEG start marker)")
    kept, position = bytearray(data[:2]), 2
    while position + 2 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0xD9:
            return bytes(kept + data[position : position + 2])
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            kept += data[position : position + 2]
            position += 2
            continue
        end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if not (marker == 0xE2 and data[position + 4 : position + 8] == b"MPF\0"):
            kept += data[position:end]
        position = end
        if marker == 0xDA:
            end = _scan_end(data, position)
            kept += data[position:end]
            position = end
    raise UnreadableImage("is not an image rdpipe can read (its first picture is cut short)")


def _scan_end(data: bytes, position: int) -> int:
    while (position := data.find(b"\xff", position)) != -1 and position + 1 < len(data):
        follower = data[position + 1]
        if follower != 0 and not 0xD0 <= follower <= 0xD7:
            return position
        position += 2
    return len(data)


def _open(data: bytes) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    brands = _brands(data)
    heif = bool(brands & _HEIF_BRANDS) and not brands & _AVIF_BRANDS and _register_heif()
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise UnreadableImage(f"is too large to open safely ({error})") from error
    except (UnidentifiedImageError, OSError) as error:
        if brands & _AVIF_BRANDS:
            detail = (
                "is AVIF, which this installation of Pillow cannot read; upgrade Pillow "
                "(11.3 and newer read it) or export the picture as JPEG"
            )
        elif brands & _HEIF_BRANDS and not heif:
            detail = (
                "is HEIC/HEIF, which rdpipe reads with the pi-heif package; install it "
                "(pip install pi-heif) or export the picture as JPEG"
            )
        else:
            detail = "is not an image rdpipe can read"
        raise UnreadableImage(detail) from error


def _brands(data: bytes) -> frozenset[bytes]:
    """The brands in an ISO media file's ``ftyp`` box (HEIF, AVIF); empty for other files."""
    if data[4:8] != b"ftyp":
        return frozenset()
    end = min(int.from_bytes(data[:4], "big"), 4096)
    compatible = (data[i : i + 4] for i in range(16, end - 3, 4))
    return frozenset((data[8:12], *compatible))


def _register_heif() -> bool:
    """Teach Pillow HEIF (once per process), if pi-heif is installed."""
    try:
        import pi_heif
    except ImportError:
        return False
    pi_heif.register_heif_opener()
    return True


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation tag (TIFF: the file's own tag), 1 when absent, broken or invalid."""
    from PIL import Image

    try:
        if hasattr(image, "tag_v2"):
            value = image.tag_v2.get(_ORIENTATION_TAG, 1)
        elif raw := image.info.get("exif"):
            exif = Image.Exif()
            exif.load(raw)
            value = exif.get(_ORIENTATION_TAG, 1)
        else:
            return 1
    except (OSError, SyntaxError, ValueError, TypeError, KeyError):  # broken EXIF: as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _reencode(data: bytes, orientation: int, *, lossless: bool) -> tuple[bytes, str]:
    """Decode, turn upright, convert to sRGB and encode as PNG or JPEG, without metadata."""
    from PIL import Image

    try:
        with _open(data) as opened:
            turn = _UPRIGHT.get(orientation)
            upright = opened.transpose(Image.Transpose[turn]) if turn else opened.copy()
        image = _to_srgb(upright)
    except (OSError, SyntaxError, ValueError) as error:
        raise UnreadableImage(
            "is not an image rdpipe can read (its pixels do not decode)"
        ) from error
    if image.has_transparency_data:
        image, kind = image.convert("RGBA"), "PNG"
    elif lossless:
        image, kind = image if image.mode in _PNG_MODES else image.convert("RGB"), "PNG"
    else:
        image, kind = image if image.mode == "L" else image.convert("RGB"), "JPEG"
    image.info.clear()  # Pillow would copy a profile, comment or transparency from here
    buffer = io.BytesIO()
    if kind == "JPEG":
        image.save(buffer, format="JPEG", quality=95, subsampling=0)
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue(), API_FORMATS[kind]


def _to_srgb(image: Image.Image) -> Image.Image:
    """The picture in sRGB: through its ICC profile when it has one, else by Pillow's formula."""
    from PIL import ImageCms

    profile = image.info.get("icc_profile")
    if profile and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            converted = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGBA" if image.mode == "RGBA" else "RGB",
            )
        except ImageCms.PyCMSError:
            converted = None  # a broken profile: take the numbers as sRGB, as most viewers would
        if converted is not None:
            return converted
    return image.convert("RGB") if image.mode == "CMYK" else image
