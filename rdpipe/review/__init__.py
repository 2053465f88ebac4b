"""The review page: every take of every shot, playable side by side, and picks.

:func:`build_page` writes a static, self-contained ``review.html`` beside a run's manifest
that opens from disk. :func:`serve` serves it on 127.0.0.1 with a live view of a running
pipeline, where a person can pick a take; the pick is written into the pipeline file.
"""

from __future__ import annotations

from rdpipe.review.page_data import (
    ManifestUnusable,
    ReviewPage,
    ShotCard,
    TakeCard,
    TakeMedia,
    load_review,
)
from rdpipe.review.page_html import PAGE_NAME, LiveView, build_page, render_page
from rdpipe.review.server import (
    TOKEN_HEADER,
    ReviewNotServed,
    ReviewServer,
    create_review_app,
    serve,
)

__all__ = [
    "PAGE_NAME",
    "TOKEN_HEADER",
    "LiveView",
    "ManifestUnusable",
    "ReviewNotServed",
    "ReviewPage",
    "ReviewServer",
    "ShotCard",
    "TakeCard",
    "TakeMedia",
    "build_page",
    "create_review_app",
    "load_review",
    "render_page",
    "serve",
]
