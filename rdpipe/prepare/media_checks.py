"""Rules about how references are sent: ``send_as`` and ``asset``, the length of local video
and audio a shot carries, and the weight of inline images in a request.
"""

from __future__ import annotations

from collections.abc import Iterator

from rdpipe.model import Pipeline, Reference
from rdpipe.prepare.av_files import MAX_SECONDS
from rdpipe.prepare.media import source_form
from rdpipe.render import RenderedShot
from rdpipe.request import Media
from rdpipe.templates import Problem

#: Seconds of reference video, and of reference audio, one request may carry (relaydance-api.md
#: §1: the same 15 s a single file may last); only local files' durations are known before
#: sending.
MAX_REFERENCE_SECONDS = MAX_SECONDS
#: Inline images adding more than this to a request's body get a warning: relays cap bodies
#: (often at a few tens of MB), and each request carries its images again.
INLINE_WARNING_BYTES = 20 * 2**20


def sending_problems(pipeline: Pipeline) -> list[Problem]:
    """Errors in how references say they are sent (``send_as``, ``asset``), at their keys."""
    errors: list[Problem] = []
    for name, reference in pipeline.references.items():
        form = source_form(reference.source)
        message = _send_as_problem(reference, form)
        if message is not None:
            errors.append(Problem(("references", name, "send_as"), message))
        message = _asset_problem(reference, form)
        if message is not None:
            errors.append(Problem(("references", name, "asset"), message))
    return errors


def _send_as_problem(reference: Reference, form: str) -> str | None:
    if reference.send_as is None:
        return None
    if reference.asset:
        return (
            "an asset is sent as its asset:// URI, so send_as does not apply; remove send_as "
            "or asset: true"
        )
    if form in ("url", "data"):
        what = f"{reference.source!r} is a URL," if form == "url" else "a data: URL is"
        return f"send_as applies to local files only; {what} sent as written"
    if reference.send_as == "inline" and reference.kind != "image":
        return (
            "local video and audio are always hosted: the API takes only URLs for them; remove "
            f"send_as: inline from this {reference.kind} reference"
        )
    return None


def _asset_problem(reference: Reference, form: str) -> str | None:
    """Why ``asset: true`` cannot be done: it registers a local picture (uploaded first)."""
    if not reference.asset:
        return None
    if reference.kind != "image":
        return (
            f"asset: true is for portrait images; the asset library takes no {reference.kind} "
            "references"
        )
    if form in ("url", "data"):
        what = f"{reference.source!r}" if form == "url" else "a data: URL"
        return (
            f"asset: true registers a local picture (rdpipe uploads it, then registers it), "
            f"not {what}; save the picture next to the pipeline and give its path"
        )
    return None


def duration_problems(shot: RenderedShot) -> Iterator[Problem]:
    """Local reference videos (and audio files) of a shot lasting more than a request takes."""
    for kind in ("video", "audio"):
        problem = _total_duration_problem(shot, kind)
        if problem is not None:
            yield Problem(("shots", shot.index, "references"), problem)


def _total_duration_problem(shot: RenderedShot, kind: str) -> str | None:
    """Local reference files of ``kind`` lasting more than the API takes in one request.

    The exact durations are added, and the total is compared at the tenth of a second the
    message shows (see :mod:`rdpipe.prepare.av_files`): 15.04 s passes, three files of 5.04 s
    (15.1 s) do not. Each file is shown to the tenth, or to the hundredth (thousandth) when
    the tenths would not add up to the total shown.
    """
    files = [
        (entry.shown, entry.duration)
        for entry in shot.request.local_files
        if entry.kind == kind and entry.duration is not None
    ]
    total = round(sum(seconds for _, seconds in files), 1)
    if len(files) < 2 or total <= MAX_REFERENCE_SECONDS:  # one file alone is checked itself
        return None
    digits = _digits_adding_up([seconds for _, seconds in files], total)
    listed = [f"{shown!r} ({seconds:.{digits}f} s)" for shown, seconds in files]
    names = ", ".join(listed[:-1]) + f" and {listed[-1]}"
    return (
        f"the reference {kind} files {names} last {total:.1f} s together; a shot may carry "
        f"at most {MAX_REFERENCE_SECONDS:g} s of reference {kind}"
    )


def _digits_adding_up(durations: list[float], total: float) -> int:
    """Decimals (1 to 3) at which ``durations`` add up, to the tenth, to ``total``."""
    for digits in (1, 2):
        if round(sum(round(seconds, digits) for seconds in durations), 1) == total:
            return digits
    return 3


def inline_images_warnings(shot: RenderedShot) -> Iterator[Problem]:
    """Inline images making a request's body large: hosting sends each image once."""
    size = sum(
        len(entry.url)
        for entry in shot.request.metadata.content
        if isinstance(entry, Media) and entry.kind == "image" and entry.url.startswith("data:")
    )
    if size > INLINE_WARNING_BYTES and shot.take == 1:
        yield Problem(
            ("shots", shot.index),
            f"the shot's inline images add {size / 2**20:.1f} MB to its request body (more "
            f"than {INLINE_WARNING_BYTES // 2**20} MB, which relays may refuse); set "
            "send_images_as: hosted to upload each image once and send its URL instead",
        )
