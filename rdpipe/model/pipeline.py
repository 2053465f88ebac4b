"""The pipeline file as pydantic models: what a storyboard may say, and nothing about I/O.

Field descriptions feed the JSON Schema in ``schemas/`` that editors use to autocomplete and
flag mistakes, so they are written for the person editing the YAML.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from rdpipe.concurrency import DEFAULT_DOWNLOADS, DEFAULT_TASKS, MAX_DOWNLOADS, MAX_TASKS
from rdpipe.model.budget import Budget, check_budget_shape
from rdpipe.model.deliverable_files import clash_error
from rdpipe.model.deliverables import MAIN, AspectMethod, DeliverableSpec, Focus
from rdpipe.model.drafts import Draft
from rdpipe.model.on_failure import OnFailure, PolicyName, check_on_failure
from rdpipe.model.output import ClipTrim, OutputSpec

SHOT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"

ShotId = Annotated[str, StringConstraints(pattern=SHOT_ID_PATTERN)]
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Ratio = Literal["16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive"]

#: Request fields a shot may set besides free-form ``metadata``; they go to the API as named.
REQUEST_FIELDS = ("model", "seconds", "ratio", "resolution", "generate_audio", "callback_url")


class _Strict(BaseModel):
    # YAML already typed every value: no text read as a number ("1_0"), no true as 1,
    # no "yes" as a boolean (YAML 1.2 reads it as text), no infinity.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


#: How a local image goes to the API: ``inline`` as a base64 data URL inside the request, or
#: ``hosted``: uploaded once and sent as its URL.
SendImagesAs = Literal["inline", "hosted"]


class Reference(_Strict):
    """A named piece of reference media: exactly one of ``image``, ``video`` or ``audio``.

    Each may be a local file (relative to the pipeline file) or an http(s) URL; images may also
    be a ``data:`` URL. A local image goes inline as a data URL or hosted (``send_as``, default
    the pipeline's ``send_images_as``); local video and audio are always hosted, since the API
    takes only URLs for them. A portrait (``asset: true``) is registered in the relay's asset
    library and sent as its ``asset://`` URI.
    """

    image: str | None = Field(
        default=None, description="Local image file, https URL or data:image/... URL."
    )
    video: str | None = Field(
        default=None,
        description="Local video file (MP4 or MOV, H.264 or H.265, 2-15 s; uploaded) "
        "or http(s) URL.",
    )
    audio: str | None = Field(
        default=None,
        description="Local audio file (WAV or MP3, 2-15 s; uploaded) or http(s) URL; "
        "a shot carrying audio needs an image or video reference too.",
    )
    send_as: SendImagesAs | None = Field(
        default=None,
        description="For a local image: 'inline' (a data URL inside each request) or 'hosted' "
        "(uploaded once, sent as a URL). Default: the pipeline's send_images_as.",
    )
    asset: bool = Field(
        default=False,
        description="A portrait: upload the local image, register it in the relay's asset "
        "library and send its asset:// URI; for faces the model refuses otherwise. The library "
        "accepts synthetic portraits only.",
    )
    description: str | None = Field(default=None, description="A note for people; never sent.")

    @model_validator(mode="after")
    def _one_kind(self) -> Reference:
        if sum(v is not None for v in (self.image, self.video, self.audio)) != 1:
            raise ValueError("a reference is exactly one of image, video or audio")
        return self

    @property
    def kind(self) -> Literal["image", "video", "audio"]:
        if self.image is not None:
            return "image"
        if self.video is not None:
            return "video"
        return "audio"

    @property
    def source(self) -> str:
        return self.image or self.video or self.audio or ""


class ShotFrame(_Strict):
    """A frame taken from another shot's clip (continuity): its last frame by default."""

    shot: ShotId = Field(description="Id of the shot whose last frame starts this one.")


Frame = str | ShotFrame


class Settings(_Strict):
    """Request settings, set in ``defaults`` for every shot and overridable per shot."""

    model: str | None = Field(default=None, description="Model id, e.g. doubao-seedance-2-0-720p.")
    seconds: int | None = Field(default=None, ge=1, le=60, description="Clip length in seconds.")
    ratio: Ratio | None = Field(default=None, description="Aspect ratio of the clip.")
    resolution: Literal["480p", "720p", "1080p"] | None = Field(
        default=None, description="Resolution; for Seedance 2.0 it is part of the model id."
    )
    generate_audio: bool | None = Field(default=None, description="Ask for a sound track.")
    callback_url: str | None = Field(
        default=None, description="Webhook the API POSTs the final task state to."
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="Other vendor parameters (seed, camera_fixed, watermark, ...), sent as given.",
    )
    retries: int | None = Field(
        default=None, ge=0, le=10, description="Resubmits of a failed (unbilled) generation."
    )
    takes: int | None = Field(
        default=None,
        ge=1,
        le=20,
        description="Generations of the shot, each its own task with its own seed; "
        "pick the best with pick: or `rdpipe pick`.",
    )
    on_failure: PolicyName | OnFailure | None = Field(
        default=None,
        description="What to do when a generation fails: one policy for every class of "
        "failure (retry, fail, skip, stop) or a mapping by class (input_refused, output_audio, "
        "output_video, transient, expired). Never part of the request or its cache key.",
    )
    draft: Draft | None = Field(
        default=None,
        description="Generate the takes as cheap drafts first: true (the cheapest "
        "configuration of the model, e.g. its 480p SKU), false (no drafts for this shot) or a "
        "mapping of what differs (model, resolution, generate_audio, metadata). The picked "
        "draft is then rendered at the final configuration with the same seed and inputs.",
    )

    @field_validator("on_failure", mode="before")
    @classmethod
    def _on_failure(cls, value: object) -> object:
        return check_on_failure(value)

    @field_validator("metadata")
    @classmethod
    def _no_reserved_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        reserved = sorted(set(value) & {"content", *REQUEST_FIELDS[2:]})
        if reserved:
            raise ValueError(
                f"set {', '.join(reserved)} as a shot field, not inside metadata "
                "(content is built from references and frames)"
            )
        return value


class Shot(Settings):
    """One clip of the storyboard: one generation request."""

    id: ShotId = Field(description="Unique id, safe as a file name: letters, digits, - and _.")
    prompt: str = Field(description="What to generate; a Jinja template over the variables.")
    vars: dict[str, Any] = Field(default_factory=dict, description="Variables for this shot.")
    references: list[Name] = Field(
        default_factory=list,
        description="Names of references this shot carries, in content order (@image1 first).",
    )
    first_frame: Frame | None = Field(
        default=None, description="Image (path or URL) or {shot: id} the clip starts from."
    )
    last_frame: str | None = Field(default=None, description="Image the clip ends on.")
    caption: str | None = Field(default=None, description="Caption text for this shot.")
    seeds: list[int] | None = Field(
        default=None,
        min_length=1,
        description="Seeds of the takes, in order (sets takes: when that is not given).",
    )
    pick: int | None = Field(
        default=None,
        ge=1,
        description="The take used in the storyboard; default: the first take that succeeded. "
        "For a drafted shot, the draft take whose final is rendered; until it is set the shot "
        "has drafts only.",
    )
    trim: ClipTrim | None = Field(
        default=None, description="The part of the clip used in the storyboard video."
    )
    focus: Focus | None = Field(
        default=None,
        description="The point a reframe keeps in view, {x: 0.4, y: 0.5} as shares of the "
        "width and height; default the centre.",
    )
    aspect: dict[Name, AspectMethod] = Field(
        default_factory=dict,
        description="Per deliverable (by name), how this shot gets its aspect when it differs "
        "from the deliverable's: reframe, pad or regenerate.",
    )


class Concurrency(_Strict):
    """How much runs at once."""

    tasks: int = Field(
        default=DEFAULT_TASKS,
        ge=1,
        le=MAX_TASKS,
        description="Generation tasks in flight at once.",
    )
    downloads: int = Field(
        default=DEFAULT_DOWNLOADS, ge=1, le=MAX_DOWNLOADS, description="Clip downloads at once."
    )


class Pipeline(_Strict):
    """A storyboard: shots that become clips that become one video."""

    version: Literal[1] = Field(description="Format version of this file; always 1.")
    name: Name = Field(description="Name of the pipeline; used in output and state file names.")
    model: str | None = Field(default=None, description="Default model id for every shot.")
    include: list[str] = Field(
        default_factory=list,
        description="Other YAML files (relative to this one) merged in first: shared vars, "
        "references, defaults and shots.",
    )
    defaults: Settings = Field(default_factory=Settings, description="Settings every shot gets.")
    vars: dict[str, Any] = Field(default_factory=dict, description="Variables for every shot.")
    references: dict[Name, Reference] = Field(
        default_factory=dict, description="Named reference media, reusable across shots."
    )
    send_images_as: SendImagesAs = Field(
        default="inline",
        description="How local images (references and frames) go to the API: 'inline' as data "
        "URLs inside each request (nothing stored elsewhere), or 'hosted': uploaded once to the "
        "relay's storage and sent as URLs (smaller requests). Local video and audio are always "
        "hosted.",
    )
    shots: list[Shot] = Field(min_length=1, description="The shots, in storyboard order.")
    output: OutputSpec = Field(
        default_factory=OutputSpec,
        description="Where the video goes: the one deliverable, when there is no outputs: list.",
    )
    outputs: list[DeliverableSpec] | None = Field(
        default=None,
        min_length=1,
        description="The deliverables (videos) the storyboard becomes, each with a name and "
        "its own size, ratio, loudness and captions, or a platform preset; replaces output:.",
    )
    concurrency: Concurrency = Field(default_factory=Concurrency, description="Parallelism.")
    budget: Annotated[int, Field(ge=1)] | Budget | None = Field(
        default=None,
        description="Most one run may bill: a whole number of billed seconds (300), or a "
        "mapping with seconds and/or cost, the most the run may cost in the account's display "
        "currency ({seconds: 300, cost: 20}).",
    )

    @field_validator("budget", mode="before")
    @classmethod
    def _budget(cls, value: object) -> object:
        return check_budget_shape(value)

    @field_validator("outputs")
    @classmethod
    def _unique_names(cls, outputs: list[DeliverableSpec] | None) -> list[DeliverableSpec] | None:
        names = [output.name for output in outputs or ()]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"deliverable names must differ: {', '.join(twice)} is used twice")
        error = clash_error(outputs or (), names)
        if error is not None:  # placed at each clashing entry's path: outputs[1].path
            raise error
        return outputs

    @model_validator(mode="after")
    def _output_or_outputs(self) -> Self:
        if self.outputs is not None and "output" in self.model_fields_set:
            raise ValueError("give either output: (one video) or outputs: (a list), not both")
        return self

    @property
    def deliverables(self) -> tuple[DeliverableSpec, ...]:
        """The videos to make, in file order: the ``outputs:`` entries, or the ``output:``
        block as the one deliverable named :data:`~rdpipe.model.deliverables.MAIN`."""
        if self.outputs is not None:
            return tuple(self.outputs)
        return (DeliverableSpec.model_validate({**self.output.model_dump(), "name": MAIN}),)
