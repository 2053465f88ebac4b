"""The model ids a pipeline uses, each once with every place it is written, checked against a
list of known ids: rdpipe's catalog (a warning) or the server's list (an error, with
``validate --online`` and before a run submits; :mod:`rdpipe.session.model_check`).

A typo'd id written once at the top of a file is used by every shot; it is reported once,
naming the shots and every other place the same id is written (issue 16 §4).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rdpipe.errors import Diagnostic
from rdpipe.load.loader import LoadedPipeline
from rdpipe.load.yaml_source import DataPath, display_path
from rdpipe.prepare.renditions import draft_of, draft_setting_place
from rdpipe.render import DRAFT, RenderedShot

#: How close an id must be to a known one for a did-you-mean (difflib's ratio).
CLOSENESS = 0.7


@dataclass(frozen=True)
class ModelUse:
    """One distinct model id: the places it is written (``file:line``, data path), in file
    order, and the ids of the shots that use it, in shot order."""

    model: str
    places: tuple[tuple[str, int, int, DataPath], ...]
    shots: tuple[str, ...]

    def diagnostic(self, message: str, *, severity: str = "error") -> Diagnostic:
        """``message`` at the first place, followed by the shots and the other places."""
        file, line, column, path = self.places[0]
        return Diagnostic(file, line, column, display_path(path), message + self._where(), severity)

    def _where(self) -> str:
        noun = "shot" if len(self.shots) == 1 else "shots"
        said = [f"used by {noun} {', '.join(self.shots)}"] if self.shots else []  # a fragment: none
        others = [f"{f}:{line} {display_path(p)}" for f, line, _, p in self.places[1:]]
        if others:
            said.append(f"also written at {', '.join(others)}")
        return f" ({'; '.join(said)})" if said else ""


def model_uses(loaded: LoadedPipeline, shots: Sequence[RenderedShot]) -> list[ModelUse]:
    """Each distinct model id of ``shots``, in the order first used."""
    places: dict[str, dict[DataPath, None]] = {}
    users: dict[str, dict[str, None]] = {}
    for shot in shots:
        places.setdefault(shot.model, {})[model_place(loaded, shot)] = None
        users.setdefault(shot.model, {})[shot.id] = None
    uses = []
    for model, paths in places.items():
        located = []
        for path in paths:
            at = loaded.position(path)
            located.append((at.file, at.line, at.column, path))
        located.sort(key=lambda p: (p[0] != loaded.shown_as, p[0], p[1], p[2]))
        uses.append(ModelUse(model, tuple(located), tuple(users[model])))
    return uses


def model_place(loaded: LoadedPipeline, shot: RenderedShot) -> DataPath:
    """Where the model of ``shot`` is written: for a draft take its draft's ``model:`` (or the
    ``draft:`` that chose the cheapest id), else the shot, ``defaults`` or the top level."""
    pipeline = loaded.pipeline
    if shot.rendition == DRAFT:
        written = draft_setting_place(pipeline, shot.index, "model")
        if written is not None:
            return written
        draft, where = draft_of(pipeline, shot.index)
        final = pipeline.shots[shot.index].model or pipeline.defaults.model or pipeline.model
        if draft is not None and shot.model != final:
            return where
    if "model" in pipeline.shots[shot.index].model_fields_set:
        return ("shots", shot.index, "model")
    if "model" in pipeline.defaults.model_fields_set:
        return ("defaults", "model")
    if pipeline.model is not None:
        return ("model",)
    return ("shots", shot.index, "model")


def shown_model(model: str) -> str:
    """``model`` as a message shows it: bare when it is a plain id, quoted (Python's repr) when
    it has spaces at its ends or characters a terminal would not show, so ``' x '`` is seen."""
    plain = model == model.strip() and model.isprintable() and bool(model)
    return model if plain else repr(model)


def did_you_mean(model: str, known: Iterable[str]) -> str | None:
    """The known id closest to ``model``, when one is close enough."""
    close = difflib.get_close_matches(model, list(known), n=1, cutoff=CLOSENESS)
    return close[0] if close else None


def catalog_warnings(uses: Sequence[ModelUse], known: Sequence[str]) -> list[Diagnostic]:
    """One warning per id rdpipe's catalog lacks (``known``: the catalog's ids), with a
    did-you-mean; a new id may be fine, so never an error."""
    warnings = []
    for use in uses:
        if use.model in known or not use.model.strip():  # an empty id is an error already
            continue
        close = did_you_mean(use.model, known)
        tail = f"; did you mean {close!r}?" if close else " (new models appear over time)"
        message = f"model {use.model!r} is not in rdpipe's catalog{tail}"
        warnings.append(use.diagnostic(message, severity="warning"))
    return warnings
