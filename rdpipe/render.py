"""Shots to requests (:class:`~rdpipe.request.GenerationRequest`), one per take.

Pure: strings go through :mod:`rdpipe.templates`, local media reach the request only through
the :class:`MediaResolver` passed in (as content entries: a local file to host is a
:class:`~rdpipe.request.LocalFile` until the session hosts it), and problems come back as
values (a data path and a message) for the caller to locate in the file. A request is built in
steps: prompt and settings, the callback written in the file, the vendor fields of
``metadata:``, the content (references and frames), then each take's seed. Only the run's own
steps remain: the run's webhook (``--listen``), which the session sets on each job and which
replaces the file's callback in the request sent (:meth:`rdpipe.plan.Job.with_webhook`), the
URLs of hosted local files (:meth:`rdpipe.request.GenerationRequest.with_hosted`), and a
continuity frame, whose PNG the scheduler hands over once the shot continued has its clip
(:meth:`rdpipe.request.GenerationRequest.with_first_frame_png`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from rdpipe.load.yaml_source import DataPath
from rdpipe.model import REQUEST_FIELDS, Frame, Pipeline, Reference, Shot, ShotFrame
from rdpipe.model.on_failure import DEFAULT_ON_FAILURE, Policies, resolve_policies
from rdpipe.request import ContentEntry, ContinuityFrame, GenerationRequest, Role
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

#: The role of a reference of each kind in ``metadata.content``.
REFERENCE_ROLES: dict[MediaKind, Role] = {
    "image": "reference_image",
    "video": "reference_video",
    "audio": "reference_audio",
}


#: How a local image is to be sent: inline (a data URL), hosted (uploaded, sent as its URL) or
#: as a portrait of the asset library (its ``asset://`` URI). Video and audio are always hosted.
SendAs = Literal["inline", "hosted", "asset"]


class MediaResolver(Protocol):
    """Turns a media source written in the file into the content entry the request carries."""

    def entry_for(
        self, source: str, kind: MediaKind, role: Role, where: DataPath, *, send_as: SendAs
    ) -> ContentEntry: ...


#: The rendition of a draft take (:attr:`RenderedShot.rendition`).
DRAFT = "draft"


@dataclass(frozen=True)
class RenderedShot:
    """One take of a shot as it will be sent: its request and what the planner needs to know."""

    index: int
    id: str
    request: GenerationRequest
    references: tuple[str, ...] = ()
    caption: str | None = None
    retries: int = 1
    take: int = 1
    takes: int = 1
    pick: int | None = None
    # What a failed generation leads to, per class (``on_failure:``); not part of the request,
    # so never of its cache key.
    on_failure: Policies = DEFAULT_ON_FAILURE
    #: Which clip of the shot this request makes (issue 17): ``""`` the storyboard's (its
    #: final), ``"draft"`` a draft take, else the name of the deliverable it is regenerated
    #: for at that deliverable's ratio.
    rendition: str = ""
    #: For a final or regenerated rendition of a drafted shot: the draft take it renders
    #: again (same seed and inputs); ``None`` otherwise.
    from_take: int | None = None

    @property
    def label(self) -> str:
        """``coast`` for a single-take shot, ``coast#2`` for its second take; a rendition
        other than the storyboard's is named after the shot id: ``coast:draft#2``,
        ``coast:vertical``."""
        name = f"{self.id}:{self.rendition}" if self.rendition else self.id
        return name if self.takes == 1 else f"{name}#{self.take}"

    @property
    def first_frame_from(self) -> str | None:
        """Continuity: the shot whose last frame starts this one."""
        return self.request.continues_from

    @property
    def model(self) -> str:
        return self.request.model

    @property
    def seconds(self) -> int:
        return int(self.request.seconds)


#: Turns a rendered shot into the requests it makes, with the problems met.
Expand = Callable[[RenderedShot, Shot], tuple[list[RenderedShot], list[Problem]]]


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

    def render_all(self, expand: Expand | None = None) -> tuple[list[RenderedShot], list[Problem]]:
        """Every take of every shot, in storyboard order.

        ``expand`` turns each rendered shot into the requests it makes (default
        :meth:`takes`; :class:`rdpipe.prepare.renditions.Renditions` adds drafts, finals and
        regenerations).
        """
        expand = expand or self.takes
        shots: list[RenderedShot] = []
        problems: list[Problem] = self._reserved_names()
        for index, shot in enumerate(self._pipeline.shots):
            rendered, found = self.render(index, shot)
            problems.extend(found)
            if rendered is not None:
                takes, found = expand(rendered, shot)
                problems.extend(found)
                shots.extend(takes)
        return shots, problems + self._located_variable_problems() + self._unread_sets()

    def _unread_sets(self) -> list[Problem]:
        """A ``--set`` name no template reads: a typo (``--set moood=calm``) would otherwise be
        ignored and the shots generated, and paid for, without it."""
        read = self._engine.names_read
        declared = set(self._pipeline.vars).union(*(shot.vars for shot in self._pipeline.shots))
        problems = []
        for name in sorted(set(self._cli_vars) - read - RESERVED_NAMES):
            close = difflib.get_close_matches(name, sorted(read | declared - {name}), n=1)
            if name in declared:
                advice = "the file defines it under vars: but no template uses it"
            elif close:
                advice = f"did you mean --set {close[0]}=...?"
            elif read:
                advice = "the variables it reads are " + ", ".join(map(repr, sorted(read)))
            else:
                advice = "it reads no variables"
            problems.append(
                Problem(
                    ("--set", name),
                    f"no template of the pipeline reads {name!r}, so this value would change "
                    f"nothing; {advice}",
                )
            )
        return problems

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

    def takes(self, rendered: RenderedShot, shot: Shot) -> tuple[list[RenderedShot], list[Problem]]:
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
                request = request.with_seed(seed)
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
        callback = settings["callback_url"]
        callback = None if callback is None else text(callback, "callback_url")
        extra = {**self._pipeline.defaults.metadata, **shot.metadata}
        where: DataPath = (*base, "metadata")
        extra = template.finish(template.render_value(extra, where), where)
        content = self._content(index, shot, template, problems)
        caption = None if shot.caption is None else text(shot.caption, "caption")
        for problem in template.variable_problems:
            self._variable_problems.setdefault(problem, []).append(shot.id)
        model = settings["model"]
        if model is None:  # written empty: one error at that line (check_model_structure)
            problems.append(
                Problem(base, "no model: set model: at the top of the file, in defaults or here")
            )
        if problems or template.variable_problems:
            return None, problems
        seconds = str(settings["seconds"] or DEFAULT_SECONDS)
        request = GenerationRequest(model=model, prompt=prompt, seconds=seconds).with_settings(
            ratio=settings["ratio"],
            resolution=settings["resolution"],
            generate_audio=settings["generate_audio"],
        )
        if callback is not None:
            request = request.with_callback(callback)
        request = request.with_extra(extra).with_content(content)
        retries = settings["retries"]
        return (
            RenderedShot(
                index=index,
                id=shot.id,
                request=request,
                references=tuple(shot.references),
                caption=caption,
                retries=1 if retries is None else retries,
                on_failure=resolve_policies(self._pipeline.defaults.on_failure, shot.on_failure),
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
            if name in shot.references[:position]:
                problems.append(
                    Problem(
                        ("shots", index, "references", position),
                        f"{name!r} is listed twice; each reference is sent once (cite it as "
                        "often as you like in the prompt)",
                    )
                )
                continue
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
    ) -> list[ContentEntry]:
        content: list[ContentEntry] = []
        for name in shot.references:
            reference = self._pipeline.references.get(name)
            if reference is not None:
                content.append(self._entry(reference, name))
        frames: tuple[tuple[Role, Frame | None], ...] = (
            ("first_frame", shot.first_frame),
            ("last_frame", shot.last_frame),
        )
        for role, frame in frames:
            if frame is None:
                continue
            where: DataPath = ("shots", index, role)
            if isinstance(frame, ShotFrame):
                content.append(ContinuityFrame(frame.shot))
                continue
            source = str(template.finish(template.render(frame, where), where))
            send_as = self._pipeline.send_images_as
            content.append(self._media.entry_for(source, "image", role, where, send_as=send_as))
        if shot.references and (shot.first_frame is not None or shot.last_frame is not None):
            problems.append(
                Problem(
                    ("shots", index, "references"),
                    "first_frame/last_frame cannot be combined with references "
                    "(the API rejects the mix); use one or the other",
                )
            )
        return content

    def _entry(self, reference: Reference, name: str) -> ContentEntry:
        where: DataPath = ("references", name, reference.kind)
        role = REFERENCE_ROLES[reference.kind]
        send_as = send_as_of(reference, self._pipeline)
        return self._media.entry_for(reference.source, reference.kind, role, where, send_as=send_as)


def send_as_of(reference: Reference, pipeline: Pipeline) -> SendAs:
    """How a reference goes if it is a local image: as an asset, as it says, or as the
    pipeline's ``send_images_as`` says."""
    if reference.asset:
        return "asset"
    return reference.send_as or pipeline.send_images_as


def derived_seed(request: GenerationRequest, take: int) -> int:
    """A reproducible seed for a later take of a request: same file, same takes.

    It hashes the request in the ASCII spelling of JSON (``\\u00e9``, not ``é``), not in its
    body's form: seeds derived so far used that spelling, and another would change every
    later take's seed, and so its key, paying for it again.
    """
    text = json.dumps(request.to_json(), sort_keys=True, separators=(",", ":")) + f"#take{take}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") % 2**31


def _first(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def _defined(known: Mapping[str, Reference]) -> str:
    if not known:
        return "; the file defines no references: add them under references:"
    return f"; defined: {', '.join(sorted(known))}"
