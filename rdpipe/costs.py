"""What a request will cost, from the relay's prices: the pre-charge and the expected charge.

The formula is the relay's (relaydance-api.md §12): a video's tokens are

    (input-video seconds + output seconds) * width * height * 24 / 1024

with ``width x height`` the frame of the request's resolution and ratio
(:meth:`rdpipe.catalog.Catalog.frame_size`; ``adaptive`` counts the largest frame of its
resolution, an upper bound). A model priced by tokens (``quota_type`` 0) costs
``tokens * model_ratio * group_ratio`` quota units (ratio 1 = 2 USD per million tokens = one
quota unit a token, §11); a model priced per call (``quota_type`` 1) costs
``model_price * 500,000 * group_ratio`` whatever it makes.

- The **pre-charge** is what the relay holds from the balance at submit, an upper bound: the
  output seconds are ``seconds`` (the model's maximum when the request has none), plus 15 s
  when any video reference is present; no input-video term.
- The **expected** charge is what will probably be settled: the output seconds plus the
  seconds of the video references (a local file's own duration; a video URL counts 15 s, the
  most a reference may last).

The relay settles from the tokens its upstream counts, which differ from both (a captured
5 s 720p task settled 1,093,750 units where this formula expects 1,080,000 at ratio 10): the
settled charge is recorded after the run, never assumed. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdpipe.catalog import Catalog, load_catalog
from rdpipe.plan import Action, Plan
from rdpipe.prices import (
    BY_TOKENS,
    MOST_QUOTA,
    PER_CALL,
    QUOTA_PER_TOKEN_AT_RATIO_1,
    QUOTA_PER_USD,
    PriceBook,
    ShotCost,
)
from rdpipe.request import LocalFile, Media

if TYPE_CHECKING:
    from rdpipe.request import GenerationRequest

#: Frames a second of Seedance output (relaydance-api.md §12, §14).
FPS = 24
#: Pixels a token covers in the relay's token count (relaydance-api.md §12).
PIXELS_PER_TOKEN = 1024
#: Seconds the pre-charge adds when a request has a video reference, and what a video
#: reference given by URL (whose length rdpipe does not read) counts for the expected charge:
#: the most a request's reference videos may last (relaydance-api.md §12).
VIDEO_REFERENCE_SECONDS = 15
#: The ratio a request that names none is rendered at (the API's default, and the simulator's).
DEFAULT_RATIO = "16:9"


def video_reference_seconds(request: GenerationRequest) -> float | None:
    """Seconds of the request's video references: each local file's duration, 15 s for a
    video given by URL (or a local one whose duration is unknown); ``None`` when it has none."""
    seconds: list[float] = []
    for entry in request.metadata.content:
        if entry.kind != "video":
            continue
        if isinstance(entry, LocalFile) and entry.duration is not None:
            seconds.append(entry.duration)
        elif isinstance(entry, LocalFile | Media):
            seconds.append(float(VIDEO_REFERENCE_SECONDS))
    return sum(seconds) if seconds else None


def estimate(
    request: GenerationRequest,
    book: PriceBook,
    *,
    input_video_seconds: float | None = None,
    catalog: Catalog | None = None,
) -> ShotCost | None:
    """The pre-charge and the expected charge of ``request`` at ``book``'s prices, in quota
    units (the module's docstring gives the formula).

    ``input_video_seconds``: the seconds of the request's video references; ``None`` reads
    them from the request (:func:`video_reference_seconds`). ``catalog`` gives the frame sizes,
    the model's maximum duration and default resolution (default: the packaged one).
    ``None`` when the model cannot be priced: the book does not name it, prices it in tiers
    (``billing_mode``/``billing_expr``), or gives an unknown ``quota_type``; a task would cost
    more than :data:`~rdpipe.prices.MOST_QUOTA` units (a figure no price can be); or, for a model
    priced by tokens, its frame size is unknown (a resolution or ratio the catalog lacks).
    """
    price = book.get(request.model)
    if price is None or price.tiered:
        return None
    if price.quota_type == PER_CALL:
        each = _quota(price.model_price * QUOTA_PER_USD * book.group_ratio)
        return None if each is None else ShotCost(precharge=each, expected=each)
    if price.quota_type != BY_TOKENS:
        return None
    catalog = catalog or load_catalog()
    frame = _frame(request, catalog)
    if frame is None:
        return None
    inputs = (
        video_reference_seconds(request) if input_video_seconds is None else input_video_seconds
    )
    asked = _seconds(request)
    held = asked if asked is not None else _max_seconds(request.model, catalog)
    if inputs is not None:
        held += VIDEO_REFERENCE_SECONDS
    expected = (asked if asked is not None else held) + (inputs or 0.0)
    per_second = frame[0] * frame[1] * FPS / PIXELS_PER_TOKEN
    ratio = price.model_ratio * book.group_ratio * QUOTA_PER_TOKEN_AT_RATIO_1
    precharge = _quota(held * per_second * ratio)
    settled = _quota(expected * per_second * ratio)
    if precharge is None or settled is None:
        return None
    return ShotCost(precharge=precharge, expected=settled)


def _quota(units: float) -> int | None:
    """``units`` rounded to whole quota units; ``None`` past :data:`MOST_QUOTA` (or not
    finite): a figure no price can be (a ratio of 1e300), so the model is not priced."""
    if not math.isfinite(units) or units > MOST_QUOTA:
        return None
    return round(units)


@dataclass(frozen=True)
class PlanCosts:
    """A plan's costs at one price book, in quota units.

    ``shots``: by job label, what the job's request costs (``None``: not priced), for every
    job; only the jobs that generate are billed by the run. ``total``: the sum over the jobs
    to generate that are priced; ``unpriced``: the models of jobs to generate that are not
    (their seconds are not in ``total``), sorted.
    """

    shots: Mapping[str, ShotCost | None]
    total: ShotCost
    unpriced: tuple[str, ...] = ()

    def of(self, label: str) -> ShotCost | None:
        """The cost of the job ``label``; ``None`` when it is not priced."""
        return self.shots.get(label)

    @property
    def complete(self) -> bool:
        """Whether every job to generate is priced, so ``total`` is the whole run's."""
        return not self.unpriced


def plan_costs(plan: Plan, book: PriceBook, *, catalog: Catalog | None = None) -> PlanCosts:
    """Each job's :func:`estimate` at ``book``'s prices, and the totals of the jobs to generate.

    A job's own :attr:`~rdpipe.plan.Job.cost` is not read: every job is estimated here.
    """
    catalog = catalog or load_catalog()
    shots: dict[str, ShotCost | None] = {}
    total = ShotCost(0, 0)
    unpriced: set[str] = set()
    for job in plan.jobs:
        cost = estimate(job.shot.request, book, catalog=catalog)
        shots[job.shot.label] = cost
        if job.action is not Action.GENERATE:
            continue
        if cost is None:
            unpriced.add(job.shot.model)
        else:
            total += cost
    return PlanCosts(shots, total, tuple(sorted(unpriced)))


def _frame(request: GenerationRequest, catalog: Catalog) -> tuple[int, int] | None:
    metadata = request.metadata
    resolution = metadata.resolution or catalog.resolution_of(request.model)
    if resolution is None:
        return None
    return catalog.frame_size(resolution, metadata.ratio or DEFAULT_RATIO)


def _seconds(request: GenerationRequest) -> int | None:
    """The output seconds the request asks for; ``None`` when it names none (or not a whole
    number of seconds, which the relay refuses)."""
    try:
        return int(request.seconds.strip())
    except ValueError:
        return None


def _max_seconds(model: str, catalog: Catalog) -> int:
    """The model's longest clip; for a model the catalog lacks, the longest of any model."""
    info = catalog.get(model)
    if info is not None:
        return info.max_seconds
    return max((known.max_seconds for known in catalog.models.values()), default=15)
