"""The review page as HTML: one self-contained file (inline CSS and JS, autoescaped Jinja).

The page and the live view's JSON share the same card templates: each card carries a version
(a hash of its HTML), so the live page replaces only the cards that changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from rdpipe.files import write_atomically
from rdpipe.hints import Invocation
from rdpipe.review.page_data import ReviewPage, load_review

PAGE_NAME = "review.html"
# Everything the page loads comes from beside it (or the review server); nothing from outside.
_CSP = (
    "default-src 'none'; img-src 'self' file: data:; media-src 'self' file:; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'"
)


@dataclass(frozen=True)
class LiveView:
    """What the served page needs beyond the static one: the token that authorises picks."""

    token: str
    cache_tag: str = ""  # appended to the video URL so a rebuilt video is fetched again


def build_page(
    manifest_path: Path,
    *,
    out: Path | None = None,
    picks: dict[str, int | None] | None = None,
    invocation: Invocation | None = None,
) -> Path:
    """Write the static review page for a run (default: ``review.html`` beside the manifest).

    ``invocation``: how the user ran ``rdpipe review``; the page's commands are written for it
    (see :func:`~rdpipe.review.page_data.load_review`).
    """
    target = out or manifest_path.parent / PAGE_NAME
    page = load_review(manifest_path, page_dir=target.parent, picks=picks, invocation=invocation)
    write_atomically(target, render_page(page).encode("utf-8"), durable=False)
    return target


def render_page(page: ReviewPage, live: LiveView | None = None) -> str:
    """The whole page; with ``live``, the served variant that polls and can pick."""
    cards = render_cards(page, live)
    return (
        _environment()
        .get_template("page.html.j2")
        .render(
            page=page,
            live=live,
            csp=_CSP,
            css=Markup(_asset("review.css")),
            js=Markup(_asset("review.js")),
            header=Markup(cards["header"]["html"]),
            cards=[Markup(shot["html"]) for shot in cards["shots"]],
        )
    )


def render_cards(page: ReviewPage, live: LiveView | None = None) -> dict[str, Any]:
    """The live view's state: the header and each card as HTML, each with its version."""
    macros: Any = _environment().get_template("cards.html.j2").module
    header = macros.storyboard(page, live is not None, live.cache_tag if live else "")
    return {
        "updated_at": page.updated_at,
        "running": page.running,
        "header": _versioned(str(header)),
        "shots": [
            {"id": shot.id, **_versioned(str(macros.shot_card(page, shot, live is not None)))}
            for shot in page.shots
        ],
    }


def _versioned(html: str) -> dict[str, str]:
    version = hashlib.sha256(html.encode()).hexdigest()[:16]
    return {"version": version, "html": html.replace("__VERSION__", version, 1)}


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("rdpipe.review", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["urldecode"] = unquote  # a page-relative URL shown as the path it is
    return environment


@cache
def _asset(name: str) -> str:
    text = resources.files("rdpipe.review").joinpath("assets", name).read_text(encoding="utf-8")
    return text.replace("</", "<\\/")  # cannot close the inline <style>/<script> early
