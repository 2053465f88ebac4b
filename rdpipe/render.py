"""Shots to request bodies in the API's JSON shape, one per take.

Pure: strings go through :mod:`rdpipe.templates`, local media reach the request only through
the :class:`MediaResolver` passed in, and problems come back as values (a data path and a
message) for the caller to locate in the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from rdpipe.load.yaml_source import DataPath
from rdpipe.model import REQUEST_FIELDS, Pipeline, Reference, Shot, ShotFrame
from rdpipe.templates import (
    RESERVED_NAMES,
    Citations,
    MediaKind,
    Problem,
    TemplateEngine,
    TemplateRun,
    VariableLayer,
)

#: The API's default clip length, used when no level of the file sets ``seconds``.
DEFAULT_SECONDS = 5

_ROLES: dict[MediaKind, str] = {
    "image": "reference_image",
    "video": "reference_video",
    "audio": "reference_audio",
}


class MediaResolver(Protocol):
    """Turns a media source written in the file into the URL the request carries."""

    def url_for(self, source: str, kind: MediaKind, where: DataPath) -> str: ...


@dataclass(frozen=True)
class RenderedShot:
    """One shot as it will be sent: the request body and what the planner needs to know."""

    index: int
    id: str
    request: dict[str, Any]
    references: tuple[str, ...] = ()
    first_frame_from: str | None = None  # continuity: the shot whose last frame starts this one
    caption: str | None = None
    retries: int = 1
    take: int = 1
    takes: int = 1
    pick: int | None = None

    @property
    def label(self) -> str:
        """``coast`` for a single-take shot, ``coast#2`` for its second take."""
        return self.id if self.takes == 1 else f"{self.id}#{self.take}"

    @property
    def model(self) -> str:
        return str(self.request["model"])

    @property
    def seconds(self) -> int:
        return int(self.request["seconds"])

    def content(self) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = self.request.get("metadata", {}).get("content", [])
        return content


class ShotRenderer:
    """Renders the shots of one pipeline; keeps the Jinja environment and compiled templates."""

    def __init__(
        self,
        pipeline: Pipeline,
        media: MediaResolver,
        *,
        cli_vars: Mapping[str, Any] | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._media = media
        self._cli_vars = dict(cli_vars or {})
        self._engine = TemplateEngine()
        # Problems inside variables, with the shots whose rendering met them.
        self._variable_problems: dict[Problem, list[str]] = {}

    def render_all(self) -> tuple[list[RenderedShot], list[Problem]]:
        """Every take of every shot, in storyboard order."""
        shots: list[RenderedShot] = []
        problems: list[Problem] = self._reserved_names()
        for index, shot in enumerate(self._pipeline.shots):
            rendered, found = self.render(index, shot)
            problems.extend(found)
            if rendered is not None:
                takes, found = self._takes(rendered, shot)
                problems.extend(found)
                shots.extend(takes)
        return shots, problems + self._located_variable_problems()

    def _reserved_names(self) -> list[Problem]:
        shots = self._pipeline.shots
        layers = [("vars",), *(("shots", i, "vars") for i in range(len(shots))), ("--set",)]
        tables = [self._pipeline.vars, *(shot.vars for shot in shots), self._cli_vars]
        return [
            Problem(
                (*prefix, name),
                f"{name!r} is a name rdpipe gives every template ({{{{ shot.id }}}}, "
                "{{ ref('x') }}); rename this variable",
            )
            for prefix, table in zip(layers, tables, strict=True)
            for name in sorted(RESERVED_NAMES & set(table))
        ]

    def _located_variable_problems(self) -> list[Problem]:
        """Each problem inside a variable once, naming the shots it broke unless it broke all."""
        every = len(self._pipeline.shots)
        located = []
        for problem, shots in self._variable_problems.items():
            names = ", ".join(repr(shot) for shot in shots)
            suffix = "" if len(shots) == every else f" (rendering shot {names})"
            if len(shots) > 1 and len(shots) != every:
                suffix = f" (rendering shots {names})"
            located.append(Problem(problem.path, problem.message + suffix))
        return located

    def _takes(
        self, rendered: RenderedShot, shot: Shot
    ) -> tuple[list[RenderedShot], list[Problem]]:
        """Expand a shot into its takes: each its own request, differing by seed.

        Take 1 keeps the request as written (adding takes never invalidates it). Later takes
        get the seed from ``seeds:``, or one derived from the request, so reruns reproduce them.
        """
        base: DataPath = ("shots", rendered.index)
        seeds = shot.seeds
        count = _first(shot.takes, self._pipeline.defaults.takes, len(seeds) if seeds else None, 1)
        problems: list[Problem] = []
        if seeds is not None and len(seeds) != count:
            problems.append(
                Problem(
                    (*base, "seeds"), f"{len(seeds)} seeds for {count} takes; give one per take"
                )
            )
        if shot.pick is not None and shot.pick > count:
            problems.append(
                Problem((*base, "pick"), f"take {shot.pick} does not exist: the shot has {count}")
            )
        if problems:
            return [], problems
        takes = []
        for take in range(1, count + 1):
            request = rendered.request
            seed = seeds[take - 1] if seeds is not None else None
            if seed is None and take > 1:
                seed = derived_seed(rendered.request, take)
            if seed is not None:
                metadata = {**request.get("metadata", {}), "seed": seed}
                request = {**request, "metadata": metadata}
            takes.append(replace(rendered, request=request, take=take, takes=count, pick=shot.pick))
        return takes, []

    def render(self, index: int, shot: Shot) -> tuple[RenderedShot | None, list[Problem]]:
        """Render one shot; returns ``(None, problems)`` when it cannot be built."""
        base: DataPath = ("shots", index)
        problems: list[Problem] = []
        citations = self._citations(index, shot, problems)
        layers = [
            VariableLayer(self._pipeline.vars, ("vars",)),
            VariableLayer(shot.vars, ("shots", index, "vars")),
            VariableLayer(self._cli_vars, ("--set",)),
        ]
        template = TemplateRun(
            self._engine, layers, {"shot": {"id": shot.id, "index": index}}, citations, problems
        )

        def text(value: str, name: str) -> str:
            where: DataPath = (*base, name)
            return str(template.finish(template.render(value, where), where))

        prompt = text(shot.prompt, "prompt")
        reported = template.variable_problems or any(p.path == (*base, "prompt") for p in problems)
        if not prompt.strip() and not reported:
            problems.append(Problem((*base, "prompt"), "the prompt is empty after rendering"))
        settings = self._settings(shot)
        metadata: dict[str, Any] = {}
        for name in ("ratio", "resolution", "generate_audio", "callback_url"):
            if settings[name] is not None:
                metadata[name] = settings[name]
        if isinstance(metadata.get("callback_url"), str):
            metadata["callback_url"] = text(metadata["callback_url"], "callback_url")
        extra = {**self._pipeline.defaults.metadata, **shot.metadata}
        where: DataPath = (*base, "metadata")
        metadata.update(template.finish(template.render_value(extra, where), where))
        content = self._content(index, shot, template, problems)
        if content:
            metadata["content"] = content
        caption = None if shot.caption is None else text(shot.caption, "caption")
        for problem in template.variable_problems:
            self._variable_problems.setdefault(problem, []).append(shot.id)
        model = settings["model"]
        if not model:
            problems.append(
                Problem(base, "no model: set model: at the top of the file, in defaults or here")
            )
        request: dict[str, Any] = {
            "model": model,
            "prompt": prompt,
            "seconds": str(settings["seconds"] or DEFAULT_SECONDS),
        }
        if metadata:
            request["metadata"] = metadata
        if problems or template.variable_problems:
            return None, problems
        retries = settings["retries"]
        return (
            RenderedShot(
                index=index,
                id=shot.id,
                request=request,
                references=tuple(shot.references),
                first_frame_from=(
                    shot.first_frame.shot if isinstance(shot.first_frame, ShotFrame) else None
                ),
                caption=caption,
                retries=1 if retries is None else retries,
            ),
            [],
        )

    def _settings(self, shot: Shot) -> dict[str, Any]:
        defaults = self._pipeline.defaults
        settings = {
            name: _first(getattr(shot, name), getattr(defaults, name)) for name in REQUEST_FIELDS
        }
        settings["model"] = settings["model"] or self._pipeline.model
        settings["retries"] = _first(shot.retries, defaults.retries)
        return settings

    def _citations(self, index: int, shot: Shot, problems: list[Problem]) -> Citations:
        citations = Citations()
        known = self._pipeline.references
        for position, name in enumerate(shot.references):
            reference = known.get(name)
            if reference is None:
                hint = difflib.get_close_matches(name, list(known), n=1)
                tail = f"; did you mean {hint[0]!r}?" if hint else _defined(known)
                problems.append(
                    Problem(
                        ("shots", index, "references", position),
                        f"no reference named {name!r}{tail}",
                    )
                )
                continue
            citations.add(name, reference.kind)
        return citations

    def _content(
        self, index: int, shot: Shot, template: TemplateRun, problems: list[Problem]
    ) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = []
        for position, name in enumerate(shot.references):
            reference = self._pipeline.references.get(name)
            if reference is not None:
                content.append(self._entry(reference, name, index, position))
        frames = (("first_frame", shot.first_frame), ("last_frame", shot.last_frame))
        for role, frame in frames:
            if frame is None:
                continue
            where: DataPath = ("shots", index, role)
            if isinstance(frame, ShotFrame):
                content.append(_image_entry(continuity_placeholder(frame.shot), role))
                continue
            source = str(template.finish(template.render(frame, where), where))
            content.append(_image_entry(self._media.url_for(source, "image", where), role))
        if shot.references and (shot.first_frame is not None or shot.last_frame is not None):
            problems.append(
                Problem(
                    ("shots", index, "references"),
                    "first_frame/last_frame cannot be combined with references "
                    "(the API rejects the mix); use one or the other",
                )
            )
        return content

    def _entry(self, reference: Reference, name: str, index: int, position: int) -> dict[str, Any]:
        where: DataPath = ("references", name, reference.kind)
        url = self._media.url_for(reference.source, reference.kind, where)
        payload = f"{reference.kind}_url"
        return {"type": payload, payload: {"url": url}, "role": _ROLES[reference.kind]}


def derived_seed(request: dict[str, Any], take: int) -> int:
    """A reproducible seed for a later take of a request: same file, same takes."""
    import hashlib
    import json

    text = json.dumps(request, sort_keys=True, separators=(",", ":")) + f"#take{take}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") % 2**31


def continuity_placeholder(shot_id: str) -> str:
    """What a ``first_frame: {shot: x}`` URL reads as until shot x's clip exists."""
    return f"<last frame of shot {shot_id}>"


def _image_entry(url: str, role: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}, "role": role}


def _first(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def _defined(known: Mapping[str, Reference]) -> str:
    if not known:
        return "; the file defines no references: add them under references:"
    return f"; defined: {', '.join(sorted(known))}"
