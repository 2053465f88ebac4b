"""Normalise the pieces of a plan, each at most once, in parallel, into a content-keyed cache.

A piece's cache key hashes the bytes of its source clip(s) with every parameter that shapes
the output, so re-assembling after one clip changed re-encodes only that clip's pieces.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass
from functools import partial
from pathlib import Path

import anyio.to_thread

from rdpipe.assemble.argv import build_card_argv, build_crossfade_argv, build_normalise_argv
from rdpipe.assemble.images import render_caption, render_card
from rdpipe.assemble.join_plan import CardPiece, ClipInput, ClipPiece, CrossfadePiece, Piece
from rdpipe.assemble.parallel import run_all
from rdpipe.assemble.probe_cache import ProbeCache
from rdpipe.assemble.runner import run_ffmpeg
from rdpipe.assemble.target import TargetFormat
from rdpipe.model.deliverables import SafeArea
from rdpipe.progress_steps import StepCounter, StepListener
from rdpipe.text import FontChain

_VERSION = 5  # bump when the argv builders change what a cached piece contains


@dataclass(frozen=True, kw_only=True)
class EncodeOptions:
    """How the pieces of a join are encoded, besides the piece itself."""

    ffmpeg: str
    target: TargetFormat
    preset: str  # x264 preset
    crf: int  # x264 quality
    cache_dir: Path  # the normalised pieces, each named by its key
    base_dir: Path  # resolves card images
    fonts: FontChain  # for cards and burned captions
    cores: int = 1  # shared out between the encodes running at once
    safe_area: SafeArea | None = None  # burned captions are drawn inside it


async def digest_files(
    paths: Sequence[Path], *, cache: ProbeCache | None = None
) -> dict[Path, str]:
    """SHA-256 of each distinct file, read in worker threads, or recalled from ``cache``."""
    digests: dict[Path, str] = {}

    async def _one(path: Path) -> None:
        digests[path] = await anyio.to_thread.run_sync(_digest_remembered, path, cache)

    await run_all([partial(_one, path) for path in dict.fromkeys(paths)], limit=4)
    return digests


async def clip_digests(
    clips: Sequence[ClipInput], *, cache: ProbeCache | None = None
) -> dict[Path, str]:
    """SHA-256 of each clip's file: the one the clip carries, else read (or recalled from
    ``cache``) as :func:`digest_files` does."""
    known = {clip.path: clip.sha256 for clip in clips if clip.sha256 is not None}
    unknown = [clip.path for clip in clips if clip.path not in known]
    return {**await digest_files(unknown, cache=cache), **known}


def piece_key(piece: Piece, options: EncodeOptions, digests: Mapping[Path, str]) -> str:
    """Cache key of a piece: its sources' content and every parameter of its encoding.

    Blocking when the piece draws text (the fonts' files are looked at).
    """
    target = options.target
    fields: dict[str, object] = {
        "version": _VERSION,
        "size": [target.width, target.height],
        "fps": str(target.fps),
        "colour": astuple(target.colour),
        "preset": options.preset,
        "crf": options.crf,
        "piece": _describe(piece, digests),
    }
    if _draws_text(piece):
        fields["fonts"] = options.fonts.identity()
        fields["text_layout"] = 2  # 2: captions fitted to their area (rdpipe.text.captions)
        if options.safe_area is not None and not isinstance(piece, CardPiece):
            fields["safe_area"] = options.safe_area.model_dump()
    text = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


async def normalise_pieces(
    pieces: Sequence[Piece],
    options: EncodeOptions,
    digests: Mapping[Path, str],
    *,
    concurrency: int,
    progress: StepListener | None = None,
) -> tuple[list[Path], int]:
    """Paths of the normalised pieces in order, and how many had to be encoded now.

    ``progress`` hears "normalising" pieces encoded of those to encode (none when every piece
    is in the cache).
    """
    keys, todo = await anyio.to_thread.run_sync(_pieces_to_encode, pieces, options, digests)
    # Cores shared out between the encodes running at once: one thread each when many pieces
    # encode, every core for a lone changed piece.
    running = max(1, min(concurrency, len(todo)))
    threads = max(1, options.cores // running)
    # Costliest first, so no big piece is left running alone on one core at the end.
    order = sorted(todo.items(), key=lambda item: _cost(item[1]), reverse=True)
    counter = StepCounter(progress if todo else None, "normalising", len(todo), "pieces")
    counter.start()

    async def encode(piece: Piece, key: str) -> None:
        await _encode(piece, key, options, threads=threads)
        counter.advance()

    await run_all([partial(encode, piece, key) for key, piece in order], limit=concurrency)
    return [_cached(options, key) for key in keys], len(todo)


def _pieces_to_encode(
    pieces: Sequence[Piece], options: EncodeOptions, digests: Mapping[Path, str]
) -> tuple[list[str], dict[str, Piece]]:
    """Each piece's key, and the pieces not yet in the cache by key. Blocking."""
    options.cache_dir.mkdir(parents=True, exist_ok=True)
    keys = [piece_key(piece, options, digests) for piece in pieces]
    todo = {k: p for k, p in zip(keys, pieces, strict=True) if not _cached(options, k).is_file()}
    return keys, todo


async def _encode(piece: Piece, key: str, options: EncodeOptions, *, threads: int) -> None:
    """Encode one piece into the cache under ``key``, with x264 (and decoders) on ``threads``."""
    dest = _cached(options, key)
    unfinished = dest.with_name(f"{dest.stem}.partial.mov")
    size = (options.target.width, options.target.height)
    fonts = options.fonts
    if isinstance(piece, CardPiece):
        image = options.base_dir / piece.card.image if piece.card.image else None
        png = await anyio.to_thread.run_sync(
            lambda: render_card(
                piece.card, size, dest.with_suffix(".png"), image=image, fonts=fonts
            )
        )
        argv = build_card_argv(
            options.ffmpeg,
            png,
            piece.frames,
            options.target,
            preset=options.preset,
            crf=options.crf,
            dest=unfinished,
        )
        step = f"drawing the {piece.name} card"
    elif isinstance(piece, CrossfadePiece):
        overlays = (
            await _overlay(piece.before, _caption_png(dest, "a"), options),
            await _overlay(piece.after, _caption_png(dest, "b"), options),
        )
        argv = build_crossfade_argv(
            options.ffmpeg,
            piece,
            options.target,
            overlays=overlays,
            preset=options.preset,
            crf=options.crf,
            dest=unfinished,
            threads=threads,
        )
        step = f"crossfading shot {piece.before.shot_id!r} into {piece.after.shot_id!r}"
    else:
        overlay = await _overlay(piece, _caption_png(dest, "a"), options)
        argv = build_normalise_argv(
            options.ffmpeg,
            piece,
            options.target,
            overlay=overlay,
            preset=options.preset,
            crf=options.crf,
            dest=unfinished,
            threads=threads,
        )
        step = f"normalising shot {piece.shot_id!r}"
    await run_ffmpeg(argv, step=step)
    await anyio.to_thread.run_sync(unfinished.replace, dest)


async def _overlay(piece: ClipPiece, png: Path, options: EncodeOptions) -> Path | None:
    """The piece's caption drawn at ``png`` (transparent, the target's size), if it has one."""
    if piece.caption is None:
        return None
    text, size = piece.caption, (options.target.width, options.target.height)
    return await anyio.to_thread.run_sync(
        lambda: render_caption(text, size, png, fonts=options.fonts, safe_area=options.safe_area)
    )


def _caption_png(dest: Path, tag: str) -> Path:
    return dest.with_name(f"{dest.stem}.caption-{tag}.png")


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
    described: dict[str, object] = {
        "clip": digests[piece.info.path],
        "start": round(piece.start, 6),
        "frames": piece.frames,
        "fade": [piece.fade_in, piece.fade_out],
        "caption": piece.caption,
    }
    if piece.fit == "reframe":  # pad and as_is draw the same picture: keys as before
        described["reframe"] = list(piece.focus)
    return described


def _cost(piece: Piece) -> int:
    """Rough decoding work of a piece: source pixels times frames."""
    if isinstance(piece, CardPiece):
        return piece.frames
    if isinstance(piece, CrossfadePiece):
        return _cost(piece.before) + _cost(piece.after)
    return piece.info.width * piece.info.height * piece.frames


def _cached(options: EncodeOptions, key: str) -> Path:
    return options.cache_dir / f"{key}.mov"


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
