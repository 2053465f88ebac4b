"""What the page says about each take: commands to paste, prompt differences, cost, duration."""

from __future__ import annotations

from pathlib import Path

from rdpipe.hints import Invocation
from rdpipe.review import build_page, load_review
from rdpipe.review.take_text import prompt_differences
from tests.review.review_tree import RunTree, build_tree, manifest_document, write_manifest


def figure(html: str, shot: str, take: int) -> str:
    """The HTML of one take's tile."""
    return html.split(f'id="take-{shot}-{take}"')[1].split("</figure>")[0]


def test_commands_name_the_pipeline_from_where_review_ran(
    tmp_path: Path, session_clip: Path
) -> None:
    """Run from the repository root on an offline run of films/my film/lighthouse.yaml, the page
    says exactly `rdpipe pick 'films/my film/lighthouse.yaml' coast 3` (pick takes no --offline)
    and `rdpipe assemble … --offline`, which work when pasted there."""
    tree = build_tree(tmp_path / "films" / "my film", session_clip, offline=True)
    here = Invocation(cwd=tmp_path, pipeline=Path("films/my film/lighthouse.yaml"), offline=True)
    page = load_review(tree.manifest, page_dir=tree.output_dir, invocation=here)
    coast = page.shots[0]
    assert [take.pick_command for take in coast.takes] == [
        f"rdpipe pick 'films/my film/lighthouse.yaml' coast {n}" for n in (1, 2, 3)
    ]
    assert page.assemble_command == "rdpipe assemble 'films/my film/lighthouse.yaml' --offline"
    html = build_page(tree.manifest, invocation=here).read_text(encoding="utf-8")
    assert (
        '<p class="command">Pick: <code>rdpipe pick &#39;films/my film/lighthouse.yaml&#39; '
        "coast 3</code></p>" in figure(html, "coast", 3)
    )


def test_a_shot_of_one_take_has_nothing_to_pick(run_tree: RunTree) -> None:
    """A shot with a single take shows no pick command; the others still do."""
    document = manifest_document(run_tree.pipeline)
    document["shots"][2]["takes"] = document["shots"][2]["takes"][:1]
    write_manifest(run_tree, document)
    here = Invocation(cwd=run_tree.root, pipeline=Path("lighthouse.yaml"))
    html = build_page(run_tree.manifest, invocation=here).read_text(encoding="utf-8")
    assert "rdpipe pick" not in figure(html, "lamp", 1)
    assert "Pick: <code>rdpipe pick lighthouse.yaml coast 1</code>" in figure(html, "coast", 1)


def test_prompt_words_that_differ_between_takes_are_marked() -> None:
    """Each take's words that differ from the other takes' prompt are runs marked True."""
    marked = prompt_differences(["a red boat at dawn", "a blue boat at dawn", "a red boat at dawn"])
    assert marked == [
        (("a", False), ("red", True), ("boat at dawn", False)),
        (("a", False), ("blue", True), ("boat at dawn", False)),
        (("a", False), ("red", True), ("boat at dawn", False)),
    ]
    assert prompt_differences(["same", "same"]) == [(), ()]


def test_takes_show_their_prompt_differences_duration_and_cost(run_tree: RunTree) -> None:
    """Per-take prompts (the requests) are shown with the differing words in <mark>; duration is
    measured from the clip; cost is shown settled, or ≈ expected, and not at all when unknown;
    seed and task id sit in the small details line."""
    document = manifest_document(run_tree.pipeline)
    lamp = document["shots"][2]["takes"]
    lamp[0].update(request={"prompt": "The lamp is lit, seed one"}, settled_cost=0.42,
                   currency="USD")  # fmt: skip
    lamp[1].update(request={"prompt": "The lamp is dark, seed one"}, expected_cost=0.5,
                   currency="USD")  # fmt: skip
    write_manifest(run_tree, document)
    html = build_page(run_tree.manifest).read_text(encoding="utf-8")
    one, two = figure(html, "lamp", 1), figure(html, "lamp", 2)
    assert '<p class="take-prompt" dir="auto">The lamp is <mark>lit,</mark> seed one</p>' in one
    assert '<p class="take-prompt" dir="auto">The lamp is <mark>dark,</mark> seed one</p>' in two
    assert '<span class="duration">1.0 s</span> · <span class="cost">0.42 USD</span>' in one
    assert '<span class="cost">≈0.50 USD</span>' in two
    assert "cost" not in figure(html, "coast", 1) and "take-prompt" not in figure(html, "coast", 1)
    assert '<p class="ids">seed 101 · task <code>task_0001</code></p>' in one


def test_tiles_take_each_clip_s_shape_and_poster(tmp_path: Path, session_clip: Path) -> None:
    """A 9:16 clip gets a 9:16 tile (inline aspect-ratio) and a poster beside the page."""
    from tests.review.review_tree import make_sim_clip

    tree = build_tree(tmp_path / "film", session_clip)
    make_sim_clip(tree.output_dir / "clips/lamp/1-eeee.mp4", 480, 864, "A tall lamp")
    html = build_page(tree.manifest).read_text(encoding="utf-8")
    tall, wide = figure(html, "lamp", 1), figure(html, "coast", 1)
    assert 'style="aspect-ratio: 480 / 864; --ratio: 0.5556"' in tall
    assert 'style="aspect-ratio: 320 / 180; --ratio: 1.7778"' in wide
    poster = tall.split('poster="')[1].split('"')[0]
    assert poster.startswith("review/posters/1-eeee-") and poster.endswith(".jpg")
    assert (tree.output_dir / poster).is_file()
