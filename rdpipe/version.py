"""The installed rdpipe's version: its distribution's metadata, which pyproject.toml's
``version`` sets (the one place it is written)."""

from __future__ import annotations


def version_line() -> str:
    """What ``rdpipe --version`` prints: ``rdpipe 0.2.0``."""
    from importlib.metadata import version

    return f"rdpipe {version('rdpipe')}"
