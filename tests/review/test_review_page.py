"""The static review page's content, checked in its HTML (the browser tests check rendering)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

import rdpipe.review
from rdpipe.hints import Invocation
from rdpipe.review import ManifestUnusable, build_page, load_review
from tests.review.review_tree import SENSITIVE, RunTree, manifest_document, write_manifest


class _Links(HTMLParser):
    """Collects every src/href and the text of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def parse(html: str) -> _Links:
    """The page's tags and URLs."""
    parser = _Links()
    parser.feed(html)
    return parser


def test_every_shot_and_take_is_on_the_page_with_working_relative_links(run_tree: RunTree) -> None:
    """One card per shot in order; every clip and thumbnail link resolves from the page's folder."""
    page = build_page(run_tree.manifest)
    html = page.read_text(encoding="utf-8")
    assert page == run_tree.output_dir / "review.html"
    assert re.findall(r'<article class="shot" id="shot-([a-z]+)"', html) == [
        "coast",
        "stairs",
        "lamp",
    ]
    tags = parse(html).tags
    videos = [attrs for tag, attrs in tags if tag == "video"]
    assert len(videos) == 1 + 5  # the storyboard and each take with a clip
    assert all(attrs.get("preload") == "metadata" and "controls" in attrs for attrs in videos)
    for url in parse(html).urls:
        if not url.startswith(("#", "data:")):
            assert (page.parent / url).is_file(), url


def test_pipeline_text_is_escaped(run_tree: RunTree) -> None:
    """Prompts and server messages with markup are shown as text, never as HTML."""
    html = build_page(run_tree.manifest).read_text(encoding="utf-8")
    assert "Aerial shot of a &lt;b&gt;storm&lt;/b&gt; &amp; coast at dusk" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert SENSITIVE.split(" <")[0] in html


def test_the_page_asks_nothing_of_the_network(run_tree: RunTree) -> None:
    """No src/href leaves the page's folder; URL references appear only as text."""
    html = build_page(run_tree.manifest).read_text(encoding="utf-8")
    assert all("://" not in url and not url.startswith("//") for url in parse(html).urls)
    assert '<code class="source">https://example.com/surf.mp3</code>' in html
    assert "@import" not in html and "url(" not in html


def test_local_reference_images_get_small_png_thumbnails(run_tree: RunTree) -> None:
    """A local image reference becomes a thumbnail under review/thumbs, at most 320 px."""
    build_page(run_tree.manifest)
    thumbs = list((run_tree.output_dir / "review" / "thumbs").iterdir())
    assert len(thumbs) == 1
    with Image.open(thumbs[0]) as image:
        assert image.format == "PNG" and max(image.size) == 320


def test_picked_takes_failures_and_details_are_shown(run_tree: RunTree) -> None:
    """The storyboard's take is marked; failures show their reason; seeds, tasks, model show."""
    page = load_review(run_tree.manifest, page_dir=run_tree.output_dir, picks={"coast": 3})
    coast = page.shots[0]
    assert (coast.picked, coast.chosen, coast.pending_pick) == (1, 3, True)
    assert coast.summary == "3 takes: 1 done, 1 failed, 1 cached"
    here = Invocation(cwd=run_tree.root, pipeline=Path("lighthouse.yaml"))
    html = build_page(run_tree.manifest, picks={"coast": 3}, invocation=here).read_text("utf-8")
    take_one = html.split('id="take-coast-1"')[1].split("</figure>")[0]
    assert "In the storyboard" in take_one and "task_0001" in take_one and "101" in take_one
    assert "Picked: assemble to use" in html.split('id="take-coast-3"')[1].split("</figure>")[0]
    assert "rdpipe pick lighthouse.yaml coast 3" in html
    assert "doubao-seedance-2-0-480p" in html and "generating" in html


def test_a_missing_or_foreign_manifest_is_refused(run_tree: RunTree) -> None:
    """No manifest, or one of another version, is an input error (exit 2)."""
    with pytest.raises(ManifestUnusable, match="has not run yet") as missing:
        build_page(run_tree.output_dir / "nope.json")
    assert missing.value.exit_code == 2
    document = manifest_document(run_tree.pipeline)
    write_manifest(run_tree, {**document, "version": 1})
    with pytest.raises(ManifestUnusable, match="manifest version 1; this rdpipe reads version 2"):
        build_page(run_tree.manifest)


def test_a_page_elsewhere_links_back_to_the_clips(run_tree: RunTree, tmp_path: Path) -> None:
    """With out= in another folder, clip links are relative to that folder and still resolve."""
    page = build_page(run_tree.manifest, out=tmp_path / "elsewhere" / "page.html")
    for url in parse(page.read_text(encoding="utf-8")).urls:
        if url.endswith(".mp4"):
            assert url.startswith("../") and (page.parent / url).is_file()


def test_public_names_are_exported() -> None:
    """The package's __all__ lists exactly its public names."""
    public = {name for name in vars(rdpipe.review) if not name.startswith("_")}
    modules = {"page_data", "page_html", "server", "thumbs", "posters", "take_text", "annotations"}
    assert set(rdpipe.review.__all__) == public - modules
