"""Shots to request bodies: sandboxed Jinja over the variables, then the API's JSON shape.

Pure: local media reach the request only through the :class:`MediaResolver` passed in, and
problems come back as values (a data path and a message) for the caller to locate in the file.
Templates run in Jinja's immutable sandbox with undefined variables as errors, so a pipeline
file from someone else cannot read files or the environment, or run code.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from rdpipe.load.yaml_source import DataPath
from rdpipe.model import Pipeline, Reference, Shot, ShotFrame

MediaKind = Literal["image", "video", "audio"]
#: The API's default clip length, used when no level of the file sets ``seconds``.
DEFAULT_SECONDS = 5
#: Longest text a template may produce; a prompt is a few hundred characters.
MAX_RENDERED = 100_000

_ROLES: dict[MediaKind, str] = {
    "image": "reference_image",
    "video": "reference_video",
    "audio": "reference_audio",
}


class MediaResolver(Protocol):
    """Turns a media source written in the file into the URL the request carries."""

    def url_for(self, source: str, kind: MediaKind, where: DataPath) -> str: ...


@dataclass(frozen=True)
class Problem:
    """Something wrong with a shot, at a data path such as ``("shots", 2, "prompt")``."""

    path: DataPath
    message: str


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


@dataclass
class _Citations:
    """Maps a shot's reference names to ``@imageN``-style citations in content order."""

    by_name: dict[str, str] = field(default_factory=dict)
    counts: dict[MediaKind, int] = field(
        default_factory=lambda: {"image": 0, "video": 0, "audio": 0}
    )

    def add(self, name: str, kind: MediaKind) -> None:
        self.counts[kind] += 1
        self.by_name[name] = f"@{kind}{self.counts[kind]}"


def make_environment() -> ImmutableSandboxedEnvironment:
    """The Jinja environment every template renders in: sandboxed, strict, no autoescape."""
    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


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
        self._environment = make_environment()

    def render_all(self) -> tuple[list[RenderedShot], list[Problem]]:
        """Every take of every shot, in storyboard order."""
        shots: list[RenderedShot] = []
        problems: list[Problem] = []
        for index, shot in enumerate(self._pipeline.shots):
            rendered, found = self.render(index, shot)
            problems.extend(found)
            if rendered is not None:
                takes, found = self._takes(rendered, shot)
                problems.extend(found)
                shots.extend(takes)
        return shots, problems

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
        variables = {**self._pipeline.vars, **shot.vars, **self._cli_vars}
        context = {**variables, "shot": {"id": shot.id, "index": index}}
        template = _TemplateRun(self._environment, context, citations, problems)

        prompt = template.render(shot.prompt, (*base, "prompt"))
        if not prompt.strip() and not any(p.path == (*base, "prompt") for p in problems):
            problems.append(Problem((*base, "prompt"), "the prompt is empty after rendering"))
        settings = self._settings(shot)
        metadata: dict[str, Any] = {}
        for name in ("ratio", "resolution", "generate_audio", "callback_url"):
            if settings[name] is not None:
                metadata[name] = settings[name]
        if isinstance(metadata.get("callback_url"), str):
            metadata["callback_url"] = template.render(
                metadata["callback_url"], (*base, "callback_url")
            )
        extra = {**self._pipeline.defaults.metadata, **shot.metadata}
        metadata.update(template.render_value(extra, (*base, "metadata")))
        content = self._content(index, shot, template, problems)
        if content:
            metadata["content"] = content
        caption = None
        if shot.caption is not None:
            caption = template.render(shot.caption, (*base, "caption"))
        model = settings["model"]
        if not model:
            problems.append(
                Problem(base, "no model: set model: at the top of the file, in defaults or here")
            )
        if problems:
            return None, problems
        request: dict[str, Any] = {
            "model": model,
            "prompt": prompt,
            "seconds": str(settings["seconds"] or DEFAULT_SECONDS),
        }
        if metadata:
            request["metadata"] = metadata
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
        names = ("model", "seconds", "ratio", "resolution", "generate_audio", "callback_url")
        settings = {name: _first(getattr(shot, name), getattr(defaults, name)) for name in names}
        settings["model"] = settings["model"] or self._pipeline.model
        settings["retries"] = _first(shot.retries, defaults.retries)
        return settings

    def _citations(self, index: int, shot: Shot, problems: list[Problem]) -> _Citations:
        citations = _Citations()
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
        self, index: int, shot: Shot, template: _TemplateRun, problems: list[Problem]
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
            source = template.render(frame, where)
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


class _TemplateRun:
    """Renders the strings of one shot, recording problems instead of raising."""

    def __init__(
        self,
        environment: ImmutableSandboxedEnvironment,
        context: dict[str, Any],
        citations: _Citations,
        problems: list[Problem],
    ) -> None:
        self._environment = environment
        self._context = {**context, "ref": self._ref}
        self._citations = citations
        self._problems = problems

    def _ref(self, name: str) -> str:
        citation = self._citations.by_name.get(name)
        if citation is None:
            raise _CitationError(name)
        return citation

    def render(self, text: str, path: DataPath) -> str:
        if "{" not in text:
            return text
        try:
            rendered = self._environment.from_string(text).render(self._context)
        except _CitationError as error:
            self._problems.append(Problem(path, error.message(self._citations)))
            return text
        except jinja2.UndefinedError as error:
            self._problems.append(Problem(path, self._undefined(error)))
            return text
        except jinja2.TemplateSyntaxError as error:
            self._problems.append(
                Problem(
                    path, f"template syntax error: {error.message} (template line {error.lineno})"
                )
            )
            return text
        except jinja2.exceptions.SecurityError as error:
            self._problems.append(Problem(path, f"not allowed in a template: {error}"))
            return text
        except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as error:
            self._problems.append(Problem(path, f"template error: {error}"))
            return text
        if len(rendered) > MAX_RENDERED:
            self._problems.append(
                Problem(path, f"renders to {len(rendered)} characters; the limit is {MAX_RENDERED}")
            )
        return rendered

    def render_value(self, value: Any, path: DataPath) -> Any:
        """Render every string inside a nested value (metadata)."""
        if isinstance(value, str):
            return self.render(value, path)
        if isinstance(value, dict):
            return {k: self.render_value(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render_value(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def _undefined(self, error: jinja2.UndefinedError) -> str:
        message = error.message or "undefined variable"
        names = [k for k in self._context if k != "ref"]
        name = _undefined_name(message)
        if name:
            close = difflib.get_close_matches(name, names, n=1)
            if close:
                return f"{message}; did you mean {close[0]!r}?"
            return f"{message}; define it under vars:, in the shot's vars: or with --set {name}=..."
        return message


class _CitationError(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def message(self, citations: _Citations) -> str:
        carried = ", ".join(citations.by_name) or "none"
        return (
            f"ref({self.name!r}): this shot does not carry that reference "
            f"(add it to the shot's references:; it carries: {carried})"
        )


def _undefined_name(message: str) -> str | None:
    # Jinja's messages read "'keeperr' is undefined".
    if message.startswith("'") and "' is undefined" in message:
        return message[1 : message.index("' is undefined")]
    return None


def iter_citations(prompt: str) -> Iterator[tuple[MediaKind, int]]:
    """Every ``@image2``-style citation in a rendered prompt, as (kind, number)."""
    from rdpipe.model import CITATION

    for match in CITATION.finditer(prompt):
        kind: MediaKind = match.group(1)  # type: ignore[assignment]
        yield kind, int(match.group(2))
