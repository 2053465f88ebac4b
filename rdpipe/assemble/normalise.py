"""Normalise the pieces of a plan, each at most once, in parallel, into a content-keyed cache.

A piece's cache key hashes the bytes of its source clip(s) with every parameter that shapes
the output, so re-assembling after one clip changed re-encodes only that clip's pieces.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, replace
from functools import partial
from pathlib import Path

import anyio.to_thread

from rdpipe.assemble.argv import build_card_argv, build_crossfade_argv, build_normalise_argv
from rdpipe.assemble.images import render_caption, render_card
from rdpipe.assemble.parallel import run_all
from rdpipe.assemble.plan import CardPiece, ClipPiece, CrossfadePiece, Piece
from rdpipe.assemble.probe_cache import ProbeCache
from rdpipe.assemble.runner import run_ffmpeg
from rdpipe.assemble.target import TargetFormat
from rdpipe.text import FontChain, load_font_chain

_VERSION = 5  # bump when the argv builders change what a cached piece contains


@dataclass(frozen=True)
class Encoder:
    """Everything a normalisation run needs besides the piece itself."""

    ffmpeg: str
    target: TargetFormat
    preset: str
    crf: int
    cache_dir: Path
    base_dir: Path
    cores: int = 1
    threads: int | None = None  # per encode; set by normalise_pieces
    fonts: FontChain | None = None  # for cards and burned captions; None: the bundled fonts

    def font_chain(self) -> FontChain:
        return self.fonts or load_font_chain(None, self.base_dir)


async def digest_files(
    paths: Sequence[Path], *, cache: ProbeCache | None = None
) -> dict[Path, str]:
    """SHA-256 of each distinct file, read in worker threads, or recalled from ``cache``."""
    digests: dict[Path, str] = {}

    async def _one(path: Path) -> None:
        digests[path] = await anyio.to_thread.run_sync(_digest_remembered, path, cache)

    await run_all([partial(_one, path) for path in dict.fromkeys(paths)], limit=4)
    return digests


def piece_key(piece: Piece, encoder: Encoder, digests: Mapping[Path, str]) -> str:
    """Cache key of a piece: its sources' content and every parameter of its encoding."""
    target = encoder.target
    fields: dict[str, object] = {
        "version": _VERSION,
        "size": [target.width, target.height],
        "fps": str(target.fps),
        "colour": astuple(target.colour),
        "preset": encoder.preset,
        "crf": encoder.crf,
        "piece": _describe(piece, digests),
    }
    if _draws_text(piece):
        fields["fonts"] = encoder.font_chain().identity()
    text = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


async def normalise_pieces(
    pieces: Sequence[Piece],
    encoder: Encoder,
    digests: Mapping[Path, str],
    *,
    concurrency: int,
) -> tuple[list[Path], int]:
    """Paths of the normalised pieces in order, and how many had to be encoded now."""
    encoder.cache_dir.mkdir(parents=True, exist_ok=True)
    keys = [piece_key(piece, encoder, digests) for piece in pieces]
    todo = {k: p for k, p in zip(keys, pieces, strict=True) if not _cached(encoder, k).is_file()}
    # Cores shared out between the encodes running at once: one thread each when many pieces
    # encode, every core for a lone changed piece.
    running = max(1, min(concurrency, len(todo)))
    encoder = replace(encoder, threads=max(1, encoder.cores // running))
    # Costliest first, so no big piece is left running alone on one core at the end.
    order = sorted(todo.items(), key=lambda item: _cost(item[1]), reverse=True)
    jobs = [partial(_encode, piece, key, encoder) for key, piece in order]
    await run_all(jobs, limit=concurrency)
    return [_cached(encoder, key) for key in keys], len(todo)


async def _encode(piece: Piece, key: str, encoder: Encoder) -> None:
    dest = _cached(encoder, key)
    unfinished = dest.with_name(f"{dest.stem}.partial.mov")
    size = (encoder.target.width, encoder.target.height)
    fonts = encoder.font_chain()
    if isinstance(piece, CardPiece):
        image = encoder.base_dir / piece.card.image if piece.card.image else None
        png = await anyio.to_thread.run_sync(
            lambda: render_card(
                piece.card, size, dest.with_suffix(".png"), image=image, fonts=fonts
            )
        )
        argv = build_card_argv(
            encoder.ffmpeg,
            png,
            piece.frames,
            encoder.target,
            preset=encoder.preset,
            crf=encoder.crf,
            dest=unfinished,
        )
        step = f"drawing the {piece.name} card"
    elif isinstance(piece, CrossfadePiece):
        overlays = (
            await _overlay(piece.before, dest, "a", size, fonts),
            await _overlay(piece.after, dest, "b", size, fonts),
        )
        argv = build_crossfade_argv(
            encoder.ffmpeg,
            piece,
            encoder.target,
            overlays=overlays,
            preset=encoder.preset,
            crf=encoder.crf,
            dest=unfinished,
            threads=encoder.threads,
        )
        step = f"crossfading shot {piece.before.shot_id!r} into {piece.after.shot_id!r}"
    else:
        overlay = await _overlay(piece, dest, "a", size, fonts)
        argv = build_normalise_argv(
            encoder.ffmpeg,
            piece,
            encoder.target,
            overlay=overlay,
            preset=encoder.preset,
            crf=encoder.crf,
            dest=unfinished,
            threads=encoder.threads,
        )
        step = f"normalising shot {piece.shot_id!r}"
    await run_ffmpeg(argv, step=step)
    unfinished.replace(dest)


async def _overlay(
    piece: ClipPiece, dest: Path, tag: str, size: tuple[int, int], fonts: FontChain
) -> Path | None:
    if piece.caption is None:
        return None
    png = dest.with_name(f"{dest.stem}.caption-{tag}.png")
    text = piece.caption
    return await anyio.to_thread.run_sync(lambda: render_caption(text, size, png, fonts=fonts))


def _draws_text(piece: Piece) -> bool:
    if isinstance(piece, CardPiece):
        return True
    if isinstance(piece, CrossfadePiece):
        return _draws_text(piece.before) or _draws_text(piece.after)
    return piece.caption is not None


def _describe(piece: Piece, digests: Mapping[Path, str]) -> dict[str, object]:
    if isinstance(piece, CardPiece):
        return {"card": piece.card.model_dump(mode="json"), "frames": piece.frames}
    if isinstance(piece, CrossfadePiece):
        return {
            "before": _describe(piece.before, digests),
            "after": _describe(piece.after, digests),
        }
    return {
        "clip": digests[piece.info.path],
        "start": round(piece.start, 6),
        "frames": piece.frames,
        "fade": [piece.fade_in, piece.fade_out],
        "caption": piece.caption,
    }


def _cost(piece: Piece) -> int:
    """Rough decoding work of a piece: source pixels times frames."""
    if isinstance(piece, CardPiece):
        return piece.frames
    if isinstance(piece, CrossfadePiece):
        return _cost(piece.before) + _cost(piece.after)
    return piece.info.width * piece.info.height * piece.frames


def _cached(encoder: Encoder, key: str) -> Path:
    return encoder.cache_dir / f"{key}.mov"


def _digest_remembered(path: Path, cache: ProbeCache | None) -> str:
    known = cache.recall_digest(path) if cache is not None else None
    if known is not None:
        return known
    digest = _digest(path)
    if cache is not None:
        cache.remember_digest(path, digest)
    return digest


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
