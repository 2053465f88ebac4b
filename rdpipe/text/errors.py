"""Errors of text drawing: a font that was asked for and cannot be had."""

from __future__ import annotations

from rdpipe.errors import ExitCode, RdpipeError


class FontUnavailable(RdpipeError):
    """``output.font`` names a file or family rdpipe cannot open."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, font: str, reason: str) -> None:
        self.font = font
        self.reason = reason
        super().__init__(
            f"font {font!r}: {reason}",
            hint="Set output.font to a .ttf/.otf/.ttc file beside the pipeline, or to the name "
            "of an installed font family (`fc-list : family` lists them), or remove it to use "
            "rdpipe's bundled Noto fonts.",
        )
