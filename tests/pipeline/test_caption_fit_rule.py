"""validate warns, at the shot's caption, about a burned caption some deliverable cannot draw
whole even at the smallest legible size, and names that deliverable (issue 17)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from tests.pipeline.requests import HEAD

#: The tester's 150-character caption; it fits a vertical cut once drawn smaller.
LONG = (
    "A long caption that should wrap several times inside the safe area of a vertical video "
    "without touching the platform buttons on the right side"
)
OUTPUTS = (
    "outputs:\n"
    "  - {name: master, platform: youtube}\n"
    "  - {name: vertical, platform: youtube-shorts}\n"
    "  - {name: square, platform: instagram-square, aspect: pad}\n"
)


def _tree(caption: str) -> dict[str, object]:
    shot = f'  - {{id: a, prompt: x, caption: "{caption}"}}\n'
    return {"sb.yaml": HEAD + "shots:\n" + shot + OUTPUTS}


def test_a_caption_too_long_for_two_deliverables_is_a_warning_for_each(
    make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """Four times the long caption: the vertical and square cuts (which burn captions in) are
    each named in a located warning; the master (sidecar captions) is not; exit 0."""
    make_tree(_tree(" ".join([LONG] * 4)))
    result = cli("validate", "sb.yaml")
    assert (result.exit_code, result.stdout) == (0, "sb.yaml: OK (1 shot)\n")
    place = "a caption's place (at most a third of the frame's height"
    tail = "and the rest would be cut off; shorten the caption or split it between shots\n"
    assert result.stderr == (
        "sb.yaml:5:33: shots[0].caption: warning: too long to burn into deliverable "
        f"'vertical' (1080x1920): even at the smallest legible size only 8 lines fit in {place}"
        f", inside its safe area), {tail}"
        "sb.yaml:5:33: shots[0].caption: warning: too long to burn into deliverable "
        f"'square' (1080x1080): even at the smallest legible size only 8 lines fit in {place}"
        f"), {tail}"
    )


def test_a_long_caption_that_fits_smaller_passes_quietly(
    make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """The 150-character caption fits every deliverable once drawn smaller: no warning."""
    make_tree(_tree(LONG))
    result = cli("validate", "sb.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "sb.yaml: OK (1 shot)\n", "")
