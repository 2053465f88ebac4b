"""The files each deliverable writes, so that no two deliverables write the same one.

A deliverable at ``out/film.mp4`` writes its video, and beside it the editors' timeline
(``film.otio``), caption files (``film.srt``, ``film.vtt``), contact sheet
(``film.contact.png``) and card videos (``film.title.mp4``, ``film.end.mp4``), as its settings
ask; a drafts run writes the same again from ``film.draft.mp4``. Paths are compared written
as POSIX paths and normalised (``out/./film.mp4`` is ``out/film.mp4``); a file system that
folds case is not considered. No I/O here.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from rdpipe.model.output import OutputSpec


@dataclass(frozen=True)
class Clash:
    """Entry ``index`` (of the list checked) would write a file entry ``other`` writes too."""

    index: int
    other: int
    message: str


def written_files(spec: OutputSpec) -> dict[str, str]:
    """Each file ``spec`` may write, normalised, with what it is (``"video"``, ``"timeline
    (.otio)"``, ``"draft video"``...): the final run's files, then the drafts run's."""
    video = posixpath.normpath(spec.path.replace("\\", "/"))
    stem, suffix = posixpath.splitext(video)
    files = _beside(video, spec, "")
    for file, role in _beside(f"{stem}.draft{suffix}", spec, "draft ").items():
        files.setdefault(file, role)
    return files


def clashes(specs: Sequence[OutputSpec], names: Sequence[str]) -> list[Clash]:
    """Each entry writing a file an earlier entry (``names`` name them) writes too, once per
    entry: its first such file, its own video first."""
    seen: dict[str, tuple[int, str]] = {}
    found: list[Clash] = []
    for index, spec in enumerate(specs):
        files = written_files(spec)
        for file, role in files.items():
            if file in seen:
                other, other_role = seen[file]
                subject = repr(spec.path) if role == "video" else f"its {role} {file!r}"
                found.append(Clash(index, other, (
                    f"{subject} is the same file as the {other_role} of deliverable "
                    f"{names[other]!r} (path {specs[other].path!r}): one would overwrite the "
                    "other; give each deliverable its own path"
                )))  # fmt: skip
                break
        for file, role in files.items():
            seen.setdefault(file, (index, role))
    return found


def clash_error(specs: Sequence[OutputSpec], names: Sequence[str]) -> ValidationError | None:
    """The :func:`clashes` as one validation error, each placed at its entry's ``path``
    (``loc`` ``(index, "path")`` within the list), or ``None`` when there are none."""
    found = clashes(specs, names)
    if not found:
        return None
    return ValidationError.from_exception_data("outputs", [
        InitErrorDetails(
            type=PydanticCustomError("value_error", "{message}", {"message": clash.message}),
            loc=(clash.index, "path"), input=specs[clash.index].path,
        )
        for clash in found
    ])  # fmt: skip


def _beside(video: str, spec: OutputSpec, prefix: str) -> dict[str, str]:
    """The video at ``video`` and the files written beside it, each with what it is."""
    stem = posixpath.splitext(video)[0]
    files = {video: "video", f"{stem}.otio": "timeline (.otio)"}
    for kind in spec.captions.sidecars:
        files.setdefault(f"{stem}.{kind}", f"captions (.{kind})")
    if spec.contact_sheet:
        files.setdefault(f"{stem}.contact.png", "contact sheet")
    if spec.title_card is not None:
        files.setdefault(f"{stem}.title.mp4", "title card video")
    if spec.end_card is not None:
        files.setdefault(f"{stem}.end.mp4", "end card video")
    return {file: prefix + role for file, role in files.items()}
