"""Running the real assembly from a test: clips in, the joined video's result out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio

from rdpipe.assemble import AssemblyResult, ClipInput, assemble
from rdpipe.model.output import OutputSpec


def join(
    clips: list[ClipInput],
    spec: OutputSpec,
    tmp_path: Path,
    ffmpeg: str,
    *,
    name: str = "film.mp4",
    **options: Any,
) -> AssemblyResult:
    """Assemble ``clips`` into ``tmp_path/name`` with a cache in ``tmp_path/cache``."""

    async def main() -> AssemblyResult:
        return await assemble(
            clips, spec, output=tmp_path / name, cache_dir=tmp_path / "cache", ffmpeg=ffmpeg,
            **options,
        )  # fmt: skip

    return anyio.run(main)


def numbered(paths: list[Path]) -> list[ClipInput]:
    """One clip input per path, shots named ``shot0``, ``shot1``…"""
    return [ClipInput(f"shot{i}", path) for i, path in enumerate(paths)]
