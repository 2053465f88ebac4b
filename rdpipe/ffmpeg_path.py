"""Where the ffmpeg binary comes from.

By default rdpipe uses the ffmpeg that the ``imageio-ffmpeg`` wheel ships, so no system package
is needed. Setting ``RDPIPE_FFMPEG`` to a path (or to ``system``, meaning ``ffmpeg`` on PATH)
uses another one.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping

from rdpipe.errors import RdpipeError

ENV_VAR = "RDPIPE_FFMPEG"


class FfmpegNotFound(RdpipeError):
    """No usable ffmpeg binary was found."""

    def __init__(self, wanted: str) -> None:
        super().__init__(
            f"ffmpeg not found: {wanted}",
            hint=f"Unset {ENV_VAR} to use the ffmpeg bundled with rdpipe, or point it at a binary.",
        )


def find_ffmpeg(environ: Mapping[str, str]) -> str:
    """Return the path of the ffmpeg binary to run, honouring ``RDPIPE_FFMPEG``."""
    wanted = environ.get(ENV_VAR, "").strip()
    if wanted:
        name = "ffmpeg" if wanted == "system" else wanted
        found = shutil.which(name)
        if found is None:
            raise FfmpegNotFound(name)
        return found
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())
