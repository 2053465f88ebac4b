"""The rules a rendered pipeline must satisfy before any money is spent.

Each rule looks at rendered shots (and the model) and returns problems at data paths; rules
never raise. The catalog is advice: an unknown model id is a warning, a known model's limits
are errors.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from rdpipe.catalog import Catalog, ModelInfo
from rdpipe.load.scalars import YAML11_BOOLEANS
from rdpipe.load.yaml_source import DataPath
from rdpipe.model import Pipeline, ShotFrame
from rdpipe.prepare.media_checks import duration_problems, inline_images_warnings
from rdpipe.prepare.renditions import draft_setting_place
from rdpipe.render import DRAFT, RenderedShot
from rdpipe.templates import TEMPLATE_SYNTAX, Problem, iter_citations

#: The API's limits on reference media in one request.
LIMITS = {"image": 9, "video": 3, "audio": 3}


def check_model_structure(pipeline: Pipeline) -> list[Problem]:
    """Rules about the file as a whole: unique shot ids, continuity links, the output path."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, shot in enumerate(pipeline.shots):
        lower = shot.id.lower()
        if lower in seen:
            problems.append(
                Problem(
                    ("shots", index, "id"),
                    f"shot id {shot.id!r} is already used by shots[{seen[lower]}] "
                    "(ids name clip files, so they must differ even ignoring case)",
                )
            )
        else:
            seen[lower] = index
    problems.extend(_continuity_problems(pipeline, seen))
    problems.extend(_blank_models(pipeline))
    output = PurePosixPath(pipeline.output.path.replace("\\", "/"))
    if output.is_absolute() or ".." in output.parts or not output.name:
        problems.append(
            Problem(
                ("output", "path"),
                f"{pipeline.output.path!r} must be a file path inside the pipeline's folder "
                "(relative, without '..')",
            )
        )
    return problems


def _blank_models(pipeline: Pipeline) -> Iterator[Problem]:
    """One error at each ``model:`` written empty (``""``, spaces): it is no id, and not
    "no model" at every shot that falls back to it."""
    written: list[tuple[DataPath, str | None]] = [
        (("model",), pipeline.model),
        (("defaults", "model"), pipeline.defaults.model),
    ]
    written += [(("shots", i, "model"), shot.model) for i, shot in enumerate(pipeline.shots)]
    for place, model in written:
        if model is not None and not model.strip():
            yield Problem(
                place,
                f"model is empty ({model!r}): write a model id, as `rdpipe models` lists them",
            )


def _continuity_problems(pipeline: Pipeline, ids: dict[str, int]) -> Iterator[Problem]:
    links: dict[str, str] = {}
    for index, shot in enumerate(pipeline.shots):
        if not isinstance(shot.first_frame, ShotFrame):
            continue
        target = shot.first_frame.shot
        where = ("shots", index, "first_frame", "shot")
        if target.lower() not in ids:
            close = difflib.get_close_matches(target, [s.id for s in pipeline.shots], n=1)
            tail = f"; did you mean {close[0]!r}?" if close else ""
            yield Problem(where, f"no shot with id {target!r}{tail}")
        elif target.lower() == shot.id.lower():
            yield Problem(where, "a shot cannot start from its own last frame")
        else:
            links[shot.id.lower()] = target.lower()
    for start in links:
        walked, node = [start], links[start]
        while node in links and node not in walked:
            walked.append(node)
            node = links[node]
        if node == start:
            index = ids[start]
            cycle = " -> ".join([*walked, start])
            yield Problem(("shots", index, "first_frame"), f"continuity loops back: {cycle}")


def check_shot(
    shot: RenderedShot, pipeline: Pipeline, catalog: Catalog
) -> tuple[list[Problem], list[Problem]]:
    """Errors and warnings for one rendered shot: content limits, citations, model limits
    (of a model the catalog knows: :mod:`~rdpipe.prepare.model_ids` warns of the others)."""
    located = _Locator(pipeline, shot)
    errors = list(_content_problems(shot)) + list(_citation_problems(shot))
    warnings: list[Problem] = []
    info = catalog.get(shot.model)
    if info is not None:  # an unknown id is warned about once per file (model_ids)
        errors.extend(_model_problems(shot, info, located))
    callback = shot.request.metadata.callback_url
    if callback is not None and urlsplit(callback).scheme not in ("http", "https"):
        errors.append(Problem(located("callback_url"), "callback_url must be an http(s) URL"))
    extra = shot.request.metadata.extra.to_json()
    errors.extend(_json_problems(extra, ("shots", shot.index, "metadata")))
    warnings.extend(_text_booleans(shot))
    warnings.extend(inline_images_warnings(shot))
    return errors, warnings


def _text_booleans(shot: RenderedShot) -> Iterator[Problem]:
    """Metadata such as ``camera_fixed: yes``, which goes out as the text "yes"."""
    for key, value in shot.request.metadata.extra.items:
        if isinstance(value, str) and value.lower() in YAML11_BOOLEANS:
            yield Problem(
                ("shots", shot.index, "metadata", key),
                f"sent as the text {value!r}; for a boolean write true or false",
            )


def _json_problems(value: object, path: DataPath) -> Iterator[Problem]:
    """Numbers JSON cannot carry (``.inf``, ``.nan``): the request could not be sent."""
    for where, leaf in _leaves(value, path):
        if isinstance(leaf, float) and not math.isfinite(leaf):
            yield Problem(where, f"{leaf} is not a finite number, and JSON cannot carry it")


class _Locator:
    """Finds where a shot's effective setting was written: the shot, defaults or the top."""

    def __init__(self, pipeline: Pipeline, shot: RenderedShot) -> None:
        self._pipeline = pipeline
        self._shot = shot

    def __call__(self, name: str) -> tuple[str | int, ...]:
        if self._shot.rendition == DRAFT:  # a draft take's own settings are its draft's
            written = draft_setting_place(self._pipeline, self._shot.index, name)
            if written is not None:
                return written
        own = self._pipeline.shots[self._shot.index]
        if name in own.model_fields_set or not hasattr(own, name):
            return ("shots", self._shot.index, name)
        if name in self._pipeline.defaults.model_fields_set:
            return ("defaults", name)
        if name == "model" and self._pipeline.model is not None:
            return ("model",)
        return ("shots", self._shot.index, name)

    def suffix(self, name: str) -> str:
        """``" (shot 'x')"`` when the setting is not written in the shot itself."""
        return "" if self(name)[0] == "shots" else f" (shot {self._shot.id!r})"


def _reference_counts(shot: RenderedShot) -> dict[str, int]:
    """How many reference images, videos and audios a shot carries."""
    roles: Counter[str] = Counter(entry.role for entry in shot.request.metadata.content)
    return {kind: roles[f"reference_{kind}"] for kind in ("image", "video", "audio")}


def _content_problems(shot: RenderedShot) -> Iterator[Problem]:
    counts = _reference_counts(shot)
    where = ("shots", shot.index, "references")
    for kind, limit in LIMITS.items():
        if counts[kind] > limit:
            yield Problem(where, f"{counts[kind]} {kind} references; the API takes at most {limit}")
    if counts["audio"] and not (counts["image"] or counts["video"]):
        yield Problem(where, "audio references need an image or video reference in the same shot")
    yield from duration_problems(shot)


def _citation_problems(shot: RenderedShot) -> Iterator[Problem]:
    carried = _reference_counts(shot)
    reported: set[tuple[str, int]] = set()
    for kind, number in iter_citations(shot.request.prompt):
        if (kind, number) in reported:
            continue
        if not 1 <= number <= carried[kind]:
            reported.add((kind, number))
            have = f"only {carried[kind]}" if carried[kind] else "no"
            yield Problem(
                ("shots", shot.index, "prompt"),
                f"@{kind}{number} is cited but the shot carries {have} {kind} reference"
                f"{'' if carried[kind] == 1 else 's'}",
            )


def _model_problems(shot: RenderedShot, info: ModelInfo, located: _Locator) -> Iterator[Problem]:
    seconds = shot.seconds
    if seconds > info.max_seconds:
        yield Problem(
            located("seconds"),
            f"{seconds} is above the {info.max_seconds} s maximum of {info.id}"
            + located.suffix("seconds"),
        )
    elif seconds < info.min_seconds:
        yield Problem(
            located("seconds"),
            f"{seconds} is below the {info.min_seconds} s minimum of {info.id}"
            + located.suffix("seconds"),
        )
    metadata = shot.request.metadata
    ratio = metadata.ratio
    if ratio is not None and ratio not in info.ratios:
        yield Problem(
            located("ratio"), f"{ratio!r} is not offered by {info.id}" + located.suffix("ratio")
        )
    resolution = metadata.resolution
    if resolution is not None and resolution not in info.resolutions:
        offered = ", ".join(info.resolutions)
        hint = ""
        if len(info.resolutions) == 1:
            hint = f" (for Seedance 2.0 the resolution is part of the model id: {offered})"
        yield Problem(
            located("resolution"),
            f"{resolution} is not offered by {info.id}{hint}" + located.suffix("resolution"),
        )
    audio = metadata.generate_audio
    if audio is not None and info.audio is not None and audio != info.audio:
        fixed = "always has" if info.audio else "never has"
        yield Problem(
            located("generate_audio"),
            f"{info.id} {fixed} audio; choose the -with-audio or -no-audio model instead",
        )
    roles: set[str] = {entry.role for entry in metadata.content}
    if not info.reference_media and roles & {"reference_video", "reference_audio"}:
        yield Problem(
            ("shots", shot.index, "references"),
            f"{info.id} does not take video or audio references (Seedance 2.0 models do)",
        )


def unused_references(pipeline: Pipeline) -> list[Problem]:
    """References no shot carries: likely a typo or leftover, reported as warnings."""
    used = {name for shot in pipeline.shots for name in shot.references}
    return [
        Problem(("references", name), f"reference {name!r} is not used by any shot")
        for name in pipeline.references
        if name not in used
    ]


#: Where a pipeline's strings are templates (``*`` is any key or index); elsewhere braces are
#: used as typed.
_TEMPLATED: tuple[tuple[str | int, ...], ...] = (
    ("vars",),
    ("defaults", "callback_url"),
    ("defaults", "metadata"),
    ("shots", "*", "prompt"),
    ("shots", "*", "caption"),
    ("shots", "*", "callback_url"),
    ("shots", "*", "metadata"),
    ("shots", "*", "vars"),
    ("shots", "*", "first_frame"),
    ("shots", "*", "last_frame"),
)


def untemplated_syntax(pipeline: Pipeline) -> list[Problem]:
    """Template syntax in a string that is not a template (a reference, a card, a path).

    Such a string is used as typed: ``image: "https://{{ host }}/k.png"`` would be fetched
    literally, ``output.path: out/{{ brand }}.mp4`` named so on disk.
    """
    problems = []
    for path, text in _leaves(pipeline.model_dump(exclude_defaults=True), ()):
        found = TEMPLATE_SYNTAX.search(text) if isinstance(text, str) else None
        if found is not None and not any(_under(path, prefix) for prefix in _TEMPLATED):
            snippet = str(text)[found.start() : found.start() + 30]
            problems.append(
                Problem(
                    path,
                    f"is not a template, so {snippet!r} would be used as typed; only a shot's "
                    "prompt, caption, callback_url, metadata, frames and vars are rendered",
                )
            )
    return problems


def colour_problems(pipeline: Pipeline) -> list[Problem]:
    """Card colours the assembly could not draw, found before any clip is paid for.

    Pillow, which reads them, is imported only when there is a card (issue 12, start-up).
    """
    problems = []
    for card_name in ("title_card", "end_card"):
        card = getattr(pipeline.output, card_name)
        for field in ("background", "color"):
            value = getattr(card, field) if card is not None else None
            if value is None:
                continue
            from PIL import ImageColor

            try:
                ImageColor.getrgb(value)
            except ValueError:
                hint = f" (did you mean '#{value}'?)" if _is_hex(value) else ""
                problems.append(
                    Problem(
                        ("output", card_name, field),
                        f"{value!r} is not a colour: use a CSS name such as 'black' or "
                        f"#rrggbb{hint}",
                    )
                )
    return problems


def _is_hex(value: str) -> bool:
    return len(value) in (3, 6, 8) and all(c in "0123456789abcdefABCDEF" for c in value)


def _leaves(value: object, path: DataPath) -> Iterator[tuple[DataPath, object]]:
    """Every value inside nested mappings and lists, with its data path."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _under(path: DataPath, prefix: tuple[str | int, ...]) -> bool:
    return len(path) >= len(prefix) and all(
        want == "*" or want == part for want, part in zip(prefix, path, strict=False)
    )
