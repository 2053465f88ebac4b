"""The review page's data: a run's ``manifest.json`` (version 2) as cards, with page-relative links.

Drafts (issue 17): a drafted shot's draft takes are cards marked as drafts (their model and
resolution shown), its final says which draft it came from, and a take regenerated for a
deliverable says which; only the takes a ``pick:`` chooses (the drafts of a drafted shot, else
the storyboard's) get pick buttons and commands.

Paths in the manifest are relative to its own directory; here they become URLs relative to
the page, so the page opens from disk and from the review server alike. Local reference
images get thumbnails; URL references stay text (the page makes no outside requests).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdpipe.errors import ExitCode, RdpipeError
from rdpipe.hints import Command, Invocation, Suggestion
from rdpipe.render import DRAFT
from rdpipe.review.posters import CLIP_MISSING, ClipLook, look_at
from rdpipe.review.take_text import cost_text, prompt_differences
from rdpipe.review.thumbs import make_thumbnail

MANIFEST_VERSION = 2
OFFLINE_DIR = "offline"  # the offline preview's folder in the output folder (Workspace)
THUMBS_DIR = Path("review") / "thumbs"
POSTERS_DIR = Path("review") / "posters"
IN_PROGRESS = frozenset({"waiting", "submitting", "generating", "downloading"})
SUCCEEDED = frozenset({"done", "cached"})


class ManifestUnusable(RdpipeError):
    """The run's manifest is missing or cannot be read; nothing was written. ``preview``: the
    paid run's manifest is missing but the offline preview has one (its ``review --offline``
    is suggested too)."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(
        self, path: Path, reason: str, *, missing: bool = False, preview: bool = False
    ) -> None:
        self.path, self.reason, self.missing = path, reason, missing
        suggestion = Suggestion.of("run", "Run the pipeline first: `{0}`, then review it.")
        if preview:  # an offline run made its own takes: those are not the paid ones
            suggestion = Suggestion(
                suggestion.sentence + " The offline preview has its own takes: `{1}` reviews "
                "them (free).",
                (*suggestion.commands, Command("review", options=("--offline",))),
            )
        super().__init__(f"{path}: {reason}", suggestion=suggestion)


@dataclass(frozen=True)
class TakeMedia:
    """A reference or a first/last frame: a thumbnail for local images, else its source."""

    label: str
    kind: str  # image, video, audio, or shot (a frame taken from another shot)
    source: str
    thumb: str | None = None  # URL of the thumbnail, relative to the page
    missing: bool = False  # a local file that could not be read


@dataclass(frozen=True)
class TakeCard:
    """One generation of a shot, as the page shows it."""

    take: int
    status: str
    task_id: str | None
    clip: str | None  # URL relative to the page
    seed: int | None
    duration: float | None  # seconds, measured
    message: str | None
    poster: str | None = None  # URL of the poster frame, relative to the page
    width: int | None = None  # the picture as a viewer sees it (rotation applied), pixels
    height: int | None = None
    cost: str | None = None  # "0.42 USD" settled, or "≈0.42 USD" expected; None when unknown
    prompt: tuple[tuple[str, bool], ...] = ()  # the take's prompt: (words, differs from others)
    pick_command: str | None = None  # `rdpipe pick …` as the user can paste it
    #: Which clip of the shot (issue 17): "" the storyboard's (a drafted shot's final),
    #: "draft", or the deliverable it was regenerated for.
    rendition: str = ""
    from_draft: int | None = None  # the draft take a final (or regeneration) renders again
    model: str | None = None  # the take's own model and resolution (a draft's are cheaper)
    resolution: str | None = None
    ratio_asked: str | None = None  # the take's requested ratio ("9:16")
    #: The shape asked for (the take's ratio, else the shot's): a tile without a picture
    #: (waiting, failed, unplayable) has it, so a tile does not change shape when its clip lands.
    shape: tuple[int, int] | None = None
    #: Why a finished take's clip cannot be shown (``"clip missing"``, a decoder's reason).
    problem: str | None = None

    @property
    def anchor(self) -> str:
        """The part of the element ids naming this take: ``2``, ``draft-2``, ``vertical-1``."""
        return f"{self.rendition}-{self.take}" if self.rendition else str(self.take)

    @property
    def _size(self) -> tuple[int, int]:
        """The tile's shape: the clip's picture, else the shape asked for, else 16:9."""
        if self.width and self.height:
            return self.width, self.height
        return self.shape or (16, 9)

    @property
    def aspect(self) -> str:
        """The CSS aspect ratio of the tile: ``"1080 / 1920"``, ``"9 / 16"``, 16:9 when unknown."""
        width, height = self._size
        return f"{width} / {height}"

    @property
    def ratio(self) -> float:
        """Width over height of the tile (16:9 when unknown)."""
        width, height = self._size
        return width / height

    @property
    def portrait(self) -> bool:
        width, height = self._size
        return height > width

    @property
    def playable(self) -> bool:
        return self.clip is not None and self.status in SUCCEEDED and self.problem is None

    @property
    def tile_text(self) -> str:
        """The words on a tile without a picture: its status, or what is wrong with its clip."""
        if self.problem is None:
            return self.status
        return CLIP_MISSING if self.problem == CLIP_MISSING else "cannot be played"


@dataclass(frozen=True)
class ShotCard:
    """One shot: its takes, the one in the storyboard, and what was asked for."""

    id: str
    index: int
    prompt: str
    model: str | None
    seconds: float | None
    settings: tuple[tuple[str, str], ...]
    references: tuple[TakeMedia, ...]
    frames: tuple[TakeMedia, ...]
    caption: str | None
    picked: int | None  # the take in the storyboard video
    chosen: int | None  # the pick: written in the pipeline file now (assembly may be pending)
    takes: tuple[TakeCard, ...]
    drafted: bool = False  # its takes are drafts, picked before its final is rendered

    def picks(self, take: TakeCard) -> bool:
        """Whether ``take`` is one ``pick:`` chooses: a draft of a drafted shot, else a
        storyboard take."""
        return take.rendition == (DRAFT if self.drafted else "")

    @property
    def awaits_pick(self) -> bool:
        """A drafted shot whose final has not been asked for (no ``pick:`` at its run): it has
        drafts only (a picked shot has its final, or only regenerations when no deliverable
        shows the final)."""
        return self.drafted and all(take.rendition == DRAFT for take in self.takes)

    @property
    def pickable_count(self) -> int:
        return sum(1 for take in self.takes if self.picks(take))

    @property
    def summary(self) -> str:
        """``3 takes: 2 done, 1 failed``; with renditions (issue 17) each counted as what it
        is, ``; `` between them: ``2 draft takes: 2 cached; final: cached; regenerated for
        vertical: cached`` (a drafted shot's final is one clip, not one more take)."""
        if not self.takes:
            return "no takes yet"
        picking = DRAFT if self.drafted else ""
        takes = [take for take in self.takes if take.rendition == picking]
        parts = [_take_count(takes, "draft take" if self.drafted else "take")] if takes else []
        for rendition in dict.fromkeys(t.rendition for t in self.takes if t.rendition != picking):
            clips = [take for take in self.takes if take.rendition == rendition]
            name = "final" if rendition == "" else f"regenerated for {rendition}"
            parts.append(f"{name}: {clips[0].status if len(clips) == 1 else _statuses(clips)}")
        return "; ".join(parts)

    @property
    def pending_pick(self) -> bool:
        """The file picks a take that the storyboard video does not use yet."""
        return self.chosen is not None and self.chosen != self.picked


def _take_count(takes: Sequence[TakeCard], noun: str) -> str:
    """``2 draft takes: 1 done, 1 failed``."""
    return f"{len(takes)} {noun}{'' if len(takes) == 1 else 's'}: {_statuses(takes)}"


def _statuses(takes: Sequence[TakeCard]) -> str:
    """``2 done, 1 failed`` (first seen first)."""
    counts: dict[str, int] = {}
    for take in takes:
        counts[take.status] = counts.get(take.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in counts.items())


@dataclass(frozen=True)
class ReviewPage:
    """Everything the page shows, from one manifest."""

    pipeline: str
    pipeline_file: str | None
    video: str | None
    contact_sheet: str | None
    updated_at: float | None
    running: bool
    shots: tuple[ShotCard, ...]
    notice: str | None = None
    assemble_command: str | None = None  # `rdpipe assemble …` as the user can paste it
    video_poster: str | None = None  # URL of the storyboard video's poster frame
    video_aspect: str = "16 / 9"  # its CSS aspect ratio (rotation applied)
    video_ratio: float = 16 / 9  # its width over height
    #: Why the storyboard video cannot be shown (``"clip missing"``, a decoder's reason).
    video_problem: str | None = None
    #: Shot ids without a take that succeeded, when no take is on its way (a run is needed).
    shots_without_take: tuple[str, ...] = ()
    run_command: str | None = None  # `rdpipe run …` as the user can paste it
    partial_command: str | None = None  # `rdpipe assemble … --partial`

    @property
    def updated(self) -> str:
        if self.updated_at is None:
            return "never"
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.updated_at))

    @property
    def pipeline_name(self) -> str:
        return Path(self.pipeline_file).name if self.pipeline_file else f"{self.pipeline}.yaml"


def waiting_page(pipeline: str, pipeline_file: Path, notice: str) -> ReviewPage:
    """The page before a run has written its manifest (the live view waits for it)."""
    return ReviewPage(pipeline, str(pipeline_file), None, None, None, False, (), notice)


def load_review(
    manifest_path: Path,
    *,
    page_dir: Path,
    picks: Mapping[str, int | None] | None = None,
    invocation: Invocation | None = None,
) -> ReviewPage:
    """Read a manifest into page data, making thumbnails under ``page_dir/review/thumbs`` and
    poster frames under ``page_dir/review/posters``.

    ``picks`` are the ``pick:`` values in the pipeline file now; without them the page only
    shows the take each storyboard used. ``invocation`` is how the user ran ``rdpipe review``
    (working directory, file, ``--offline``): the page's commands are written for it; without
    it they name the pipeline file as the manifest records it, from the current directory.
    """
    document = read_manifest(manifest_path)
    pipeline_file = _text(document.get("pipeline_file"))
    if invocation is None:
        invocation = Invocation.start(Path(pipeline_file) if pipeline_file else None)
    links = _Links(manifest_path.parent, page_dir)
    film = links.look(document.get("video"))
    shots = tuple(
        _shot(entry, links, picks or {}, invocation) for entry in document.get("shots") or []
    )
    film_look = film if isinstance(film, ClipLook) else None
    without = tuple(
        shot.id
        for shot in shots
        if not any(take.status in SUCCEEDED | IN_PROGRESS for take in shot.takes)
    )
    return ReviewPage(
        pipeline=str(document.get("pipeline") or manifest_path.parent.name),
        pipeline_file=pipeline_file,
        video=links.file(document.get("video")),
        contact_sheet=links.file(document.get("contact_sheet")),
        updated_at=_number(document.get("updated_at")),
        running=bool(document.get("running")),
        shots=tuple(sorted(shots, key=lambda shot: shot.index)),
        assemble_command=_command(invocation, "assemble"),
        video_poster=links.url(film_look.poster) if film_look else None,
        video_aspect=f"{film_look.width} / {film_look.height}" if film_look else "16 / 9",
        video_ratio=film_look.width / film_look.height if film_look else 16 / 9,
        video_problem=film if isinstance(film, str) else None,
        shots_without_take=without if document.get("running") is not True else (),
        run_command=_command(invocation, "run"),
        partial_command=_command(invocation, "assemble", "--partial"),
    )


def _command(invocation: Invocation, verb: str, *arguments: str) -> str | None:
    if invocation.pipeline is None:
        return None
    return invocation.command(verb, *arguments)


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest as JSON, checked for the version this page understands."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestUnusable(
            path,
            "no manifest: this pipeline has not run yet",
            missing=True,
            preview=_preview_beside(path),
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestUnusable(path, f"cannot read the manifest ({error})") from error
    if not isinstance(document, dict):
        raise ManifestUnusable(path, "the manifest is not a JSON object")
    version = document.get("version")
    if version != MANIFEST_VERSION:
        raise ManifestUnusable(
            path, f"manifest version {version!r}; this rdpipe reads version {MANIFEST_VERSION}"
        )
    return document


def _preview_beside(path: Path) -> bool:
    """Whether the offline preview of the paid run whose manifest is ``path`` has a manifest:
    it lives in ``offline/`` of the same output folder (:class:`rdpipe.session.workspace.
    Workspace`); a preview's own manifest has none beside it."""
    return path.parent.name != OFFLINE_DIR and (path.parent / OFFLINE_DIR / path.name).is_file()


class _Links:
    """Turns manifest paths into URLs relative to the page, and makes thumbnails."""

    def __init__(self, manifest_dir: Path, page_dir: Path) -> None:
        self.manifest_dir = manifest_dir
        self.page_dir = page_dir

    def file(self, value: object) -> str | None:
        if not isinstance(value, str) or not value:
            return None
        return self.url(self.manifest_dir / value)

    def url(self, target: Path) -> str:
        relative = os.path.relpath(target.absolute(), self.page_dir.absolute())
        return quote(Path(relative).as_posix(), safe="/")

    def look(self, value: object) -> ClipLook | str | None:
        """The poster and measurements of a manifest clip path (``ClipLook``), why it cannot be
        shown (``str``), or ``None`` when there is no path."""
        if not isinstance(value, str) or not value:
            return None
        return look_at(self.manifest_dir / value, self.page_dir / POSTERS_DIR)

    def media(self, label: str, entry: Mapping[str, Any]) -> TakeMedia:
        if isinstance(entry.get("shot"), str):
            return TakeMedia(label, "shot", entry["shot"])
        kind = str(entry.get("kind") or "image")
        source = str(entry.get("source") or "")
        path = entry.get("path")
        if not isinstance(path, str) or kind != "image":
            return TakeMedia(label, kind, source)
        thumb = make_thumbnail(Path(path), self.page_dir / THUMBS_DIR)
        if thumb is None:
            return TakeMedia(label, kind, source, missing=True)
        return TakeMedia(label, kind, source, thumb=self.url(thumb))


def _shot(
    entry: Mapping[str, Any],
    links: _Links,
    picks: Mapping[str, int | None],
    invocation: Invocation,
) -> ShotCard:
    shot_id = str(entry.get("id"))
    references = [
        links.media(str(ref.get("name") or ref.get("source") or "reference"), ref)
        for ref in entry.get("references") or []
        if isinstance(ref, dict)
    ]
    frames = [
        links.media(label, entry[role])
        for role, label in (("first_frame", "first frame"), ("last_frame", "last frame"))
        if isinstance(entry.get(role), dict)
    ]
    settings = entry.get("settings")
    settings = settings if isinstance(settings, dict) else {}
    return ShotCard(
        id=shot_id,
        index=int(entry.get("index") or 0),
        prompt=str(entry.get("prompt") or ""),
        model=_text(entry.get("model")),
        seconds=_number(entry.get("seconds")),
        settings=tuple((str(k), _shown(v)) for k, v in settings.items()),
        references=tuple(references),
        frames=tuple(frames),
        caption=_text(entry.get("caption")),
        picked=_integer(entry.get("picked")),
        chosen=picks.get(shot_id),
        takes=_takes(shot_id, entry, links, invocation),
        drafted=entry.get("drafted") is True,
    )


def _takes(
    shot_id: str, entry: Mapping[str, Any], links: _Links, invocation: Invocation
) -> tuple[TakeCard, ...]:
    takes = [take for take in entry.get("takes") or [] if isinstance(take, dict)]
    prompts = [_take_prompt(take, str(entry.get("prompt") or "")) for take in takes]
    marked = prompt_differences(prompts)
    drafted = entry.get("drafted") is True
    settings = entry.get("settings")
    settings = settings if isinstance(settings, dict) else {}
    picking = DRAFT if drafted else ""
    pickable = [take for take in takes if _rendition(take) == picking]
    cards = []
    for take, prompt in zip(takes, marked, strict=True):
        number = str(_integer(take.get("take")) or 1)
        # A shot of one take has nothing to choose (a drafted shot's one draft has: its pick
        # orders the final); a rendition that pick: does not choose has no pick command.
        choice = _rendition(take) == picking and (drafted or len(pickable) > 1)
        command = _command(invocation, "pick", shot_id, number) if choice else None
        cards.append(_take(take, links, prompt, command, _shape(settings.get("ratio"))))
    return tuple(cards)


def _shape(ratio: object) -> tuple[int, int] | None:
    """``"9:16"`` as ``(9, 16)``; ``None`` for anything else (``"adaptive"``, absent)."""
    if not isinstance(ratio, str):
        return None
    width, colon, height = ratio.partition(":")
    if colon and width.isdigit() and height.isdigit() and int(width) and int(height):
        return int(width), int(height)
    return None


def _rendition(take: Mapping[str, Any]) -> str:
    rendition = take.get("rendition")
    return rendition if isinstance(rendition, str) else ""


def _take(
    entry: Mapping[str, Any],
    links: _Links,
    prompt: tuple[tuple[str, bool], ...],
    pick_command: str | None,
    shot_shape: tuple[int, int] | None,
) -> TakeCard:
    clip = links.file(entry.get("clip"))
    status = str(entry.get("status") or "unknown")
    seen = links.look(entry.get("clip")) if clip and status in SUCCEEDED else None
    look = seen if isinstance(seen, ClipLook) else None
    duration = _number(entry.get("duration"))
    asked = _asked(entry)
    return TakeCard(
        take=_integer(entry.get("take")) or 1,
        status=status,
        task_id=_text(entry.get("task_id")),
        clip=clip,
        seed=_integer(entry.get("seed")),
        duration=look.duration if look else duration,
        message=_text(entry.get("message")),
        poster=links.url(look.poster) if look else None,
        width=look.width if look else None,
        height=look.height if look else None,
        cost=cost_text(entry),
        prompt=prompt,
        pick_command=pick_command,
        rendition=_rendition(entry),
        from_draft=_integer(entry.get("from_draft")),
        shape=_shape(asked["ratio_asked"]) or shot_shape,
        problem=seen if isinstance(seen, str) else None,
        **asked,
    )


def _asked(take: Mapping[str, Any]) -> dict[str, str | None]:
    """The take's own request: its model, resolution and ratio (none when not recorded)."""
    request = take.get("request")
    request = request if isinstance(request, dict) else {}
    metadata = request.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    return {
        "model": _text(request.get("model")),
        "resolution": _text(metadata.get("resolution")),
        "ratio_asked": _text(metadata.get("ratio")),
    }


def _take_prompt(take: Mapping[str, Any], shot_prompt: str) -> str:
    request = take.get("request")
    prompt = request.get("prompt") if isinstance(request, dict) else None
    return prompt if isinstance(prompt, str) else shot_prompt


def _shown(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None
