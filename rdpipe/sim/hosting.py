"""Files hosted by the simulated media host: one directory, one file per ``<md5>.<ext>``.

An upload is streamed into a temporary file beside its target while its md5 is computed, and
renamed into place only when the digest is the one in its name, so a body that fails the check
leaves nothing behind and memory stays flat whatever the size.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from rdpipe.sim.media import split_hosted_name

_INCOMING = ".incoming-"


class HostedFiles:
    """The hosted files under ``directory`` (created if missing). Safe to use from any thread."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path | None:
        """The file hosted as ``name``, or ``None`` when there is none (or ``name`` is not one)."""
        if split_hosted_name(name) is None:
            return None
        path = self.directory / name
        return path if path.is_file() else None

    def sizes(self) -> dict[str, int]:
        """Every hosted file's name and size in bytes (uploads under way are left out)."""
        sizes: dict[str, int] = {}
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if split_hosted_name(entry.name) is not None and entry.is_file():
                    sizes[entry.name] = entry.stat().st_size
        return sizes

    def remove(self, name: str) -> None:
        """Delete the file hosted as ``name``; ``KeyError`` when there is none."""
        path = self.path(name)
        if path is None:
            raise KeyError(name)
        path.unlink(missing_ok=True)

    async def receive(self, name: str, md5: str, chunks: AsyncIterator[bytes]) -> bool:
        """Write ``chunks`` as the file ``name`` if their md5 is ``md5``; whether it was.

        The bytes go to a temporary file first; any failure (a wrong digest, the client gone
        mid-body) removes it and leaves the hosted file, if one exists, as it was.
        """
        incoming = anyio.Path(self.directory / f"{_INCOMING}{uuid.uuid4().hex}-{name}")
        digest = hashlib.md5(usedforsecurity=False)
        try:
            async with await anyio.open_file(incoming, "wb") as file:
                async for chunk in chunks:
                    digest.update(chunk)
                    await file.write(chunk)
            if digest.hexdigest() != md5:
                return False
            await incoming.replace(self.directory / name)
            return True
        finally:
            await incoming.unlink(missing_ok=True)
