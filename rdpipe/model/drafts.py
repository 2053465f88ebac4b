"""A shot's draft stage: takes generated on a cheaper configuration, then the picked take
rendered at the final one with the same seed and inputs (issue 17). No I/O here."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

_FROZEN = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class DraftSpec(BaseModel):
    """How the draft takes of a shot differ from its final clip.

    Every field left out is the final configuration's, except that ``draft: true`` (no
    mapping) asks for the cheapest configuration of the final model: the ``-480p`` SKU of a
    Seedance 2.0 model (the resolution is part of its id, relaydance-api.md section 1), else
    ``resolution: 480p`` where the model offers it.
    """

    model_config = _FROZEN

    model: str | None = Field(
        default=None,
        description="Model id of the drafts, e.g. doubao-seedance-2-0-480p; omit for the "
        "cheapest SKU of the final model's family.",
    )
    resolution: Literal["480p", "720p", "1080p"] | None = Field(
        default=None, description="Resolution of the drafts, for models with a choice."
    )
    generate_audio: bool | None = Field(
        default=None, description="Ask for a sound track in the drafts (default: as the final)."
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="Vendor parameters sent with the drafts only, such as the upstream "
        "`draft: true` flag where a model supports it.",
    )


#: The forms ``draft:`` takes, for messages.
FORMS = "true, false or a mapping (model, resolution, generate_audio, metadata)"
#: Words YAML 1.1 read as booleans and YAML 1.2 (rdpipe's) reads as text.
_YAML11_WORDS = frozenset({"yes", "no", "on", "off", "y", "n"})


def check_draft_shape(value: object) -> object:
    """A ``draft:`` as written, checked before pydantic tries each form: ``true``/``false``,
    a mapping (left to :class:`DraftSpec`) or nothing. Raises ``ValueError`` naming the forms
    otherwise: one message for the union, rather than one per form."""
    if value is None or isinstance(value, bool | dict | DraftSpec):
        return value
    shown = "a list" if isinstance(value, list) else repr(value)
    message = f"expected {FORMS}, got {shown}"
    if isinstance(value, str) and value.lower() in _YAML11_WORDS:
        message += f" ({value!r} is text in YAML 1.2; write true or false)"
    raise ValueError(message)


#: ``draft:`` as written: ``true`` (cheapest configuration), ``false`` (off, e.g. one shot
#: when ``defaults`` turns drafting on) or a mapping.
Draft = Annotated[bool | DraftSpec, BeforeValidator(check_draft_shape)]
