"""The line under each shot's card counts its clips as what they are (issue 17): draft takes
as takes, the final and each regeneration by name, never all of them as "takes"."""

from __future__ import annotations

from rdpipe.review.page_data import ShotCard, TakeCard


def _card(*takes: tuple[int, str, str], drafted: bool = True) -> ShotCard:
    """A shot card of ``takes`` (take number, rendition, status)."""
    cards = tuple(
        TakeCard(take=take, status=status, task_id=None, clip=None, seed=None, duration=None,
                 message=None, rendition=rendition)
        for take, rendition, status in takes
    )  # fmt: skip
    return ShotCard(id="kite", index=0, prompt="a kite", model=None, seconds=None,
                    settings=(), references=(), frames=(), caption=None, picked=None,
                    chosen=None, takes=cards, drafted=drafted)  # fmt: skip


def test_two_drafts_and_their_final_are_two_draft_takes_and_a_final() -> None:
    """harbour of the trailer: 2 drafts cached and the final: not "3 takes: 3 cached"."""
    card = _card((1, "draft", "cached"), (2, "draft", "cached"), (1, "", "cached"))
    assert card.summary == "2 draft takes: 2 cached; final: cached"


def test_one_draft_its_final_and_a_regeneration_name_each() -> None:
    """archive of the trailer (takes: 1): one draft take, the final, the master's 16:9 clip."""
    card = _card((1, "draft", "cached"), (1, "", "done"), (1, "master", "failed"))
    assert card.summary == "1 draft take: 1 cached; final: done; regenerated for master: failed"


def test_a_drafted_shot_awaiting_a_pick_counts_its_drafts_only() -> None:
    card = _card((1, "draft", "done"), (2, "draft", "failed"))
    assert card.summary == "2 draft takes: 1 done, 1 failed"


def test_a_shot_without_drafts_keeps_its_takes_line_and_names_a_regeneration() -> None:
    """No drafts: ``N takes: ...`` as before; a regeneration is counted apart."""
    assert _card((1, "", "done"), (2, "", "failed"), drafted=False).summary == (
        "2 takes: 1 done, 1 failed"
    )
    assert _card((1, "", "done"), drafted=False).summary == "1 take: 1 done"
    assert _card((1, "", "cached"), (1, "vertical", "done"), drafted=False).summary == (
        "1 take: 1 cached; regenerated for vertical: done"
    )
