"""Which clip each deliverable shows for each shot, and how it fills the frame (design17 §5):
choose_clips on a prepared storyboard and a run's results, no run needed."""

from __future__ import annotations

from pathlib import Path

from rdpipe.model.deliverables import DeliverableSpec
from rdpipe.prepare.pipeline import PreparedPipeline, prepare_pipeline
from rdpipe.scheduler import Outcome, Phase, ShotResult
from rdpipe.session.deliverable_clips import choose_clips
from rdpipe.state import StoredClip

FILM = """version: 1
name: film
model: doubao-seedance-2-0-720p
defaults: {seconds: 4, ratio: '16:9', draft: true, takes: 2}
shots:
  - {id: kite, prompt: a red kite, focus: {x: 0.25, y: 0.4}, pick: 2,
     aspect: {square: pad}}
  - {id: dog, prompt: a dog, draft: false, takes: 2, pick: 2}
outputs:
  - {name: master}
  - {name: vertical, ratio: '9:16', aspect: regenerate}
  - {name: square, ratio: '1:1'}
"""


def _prepared(tmp_path: Path, text: str = FILM) -> PreparedPipeline:
    path = tmp_path / "film.yaml"
    path.write_text(text, encoding="utf-8")
    return prepare_pipeline(path)


def _done(shot: str, take: int = 1, rendition: str = "") -> ShotResult:
    name = f"{shot}-{rendition or 'final'}-{take}.mp4"
    clip = StoredClip(f"clips/{name}", Path("/clips") / name, 10, "0" * 64)
    return ShotResult(shot, f"key-{name}", Phase.DONE, clip=clip, take=take,
                      outcome=Outcome.SUCCEEDED, rendition=rendition)  # fmt: skip


def _failed(shot: str, take: int = 1, rendition: str = "") -> ShotResult:
    return ShotResult(shot, "key", Phase.FAILED, take=take, outcome=Outcome.REFUNDED,
                      rendition=rendition)  # fmt: skip


#: A chosen clip as (shot, rendition, take, fit, focus).
Chosen = tuple[str, str, int, str, tuple[float, float]]


def _chosen(
    prepared: PreparedPipeline, results: list[ShotResult], name: str, drafts: bool = False
) -> list[Chosen]:
    """What deliverable ``name`` shows for each shot."""
    spec = next(d for d in prepared.loaded.pipeline.deliverables if d.name == name)
    cut = choose_clips(prepared, results, spec, drafts=drafts)
    return [(c.result.shot_id, c.result.rendition, c.result.take, c.fit, c.focus)
            for c in cut.clips]  # fmt: skip


DRAFTS = [_done("kite", 1, "draft"), _done("kite", 2, "draft"), _done("dog", 1), _done("dog", 2)]


def test_drafts_mode_shows_the_picked_draft_and_the_undrafted_pick(tmp_path: Path) -> None:
    """In drafts mode the drafted shot shows its picked draft take, reframed around its focus;
    the shot without drafts its picked take; square pads the kite as its aspect says."""
    prepared = _prepared(tmp_path)
    results = [*DRAFTS, _done("kite")]  # a final exists, drafts mode ignores it
    assert _chosen(prepared, results, "vertical", drafts=True) == [
        ("kite", "draft", 2, "reframe", (0.25, 0.4)),
        ("dog", "", 2, "reframe", (0.5, 0.5)),
    ]
    assert _chosen(prepared, results, "square", drafts=True)[0][3] == "pad"


def test_final_mode_prefers_the_regenerated_clip_as_it_is(tmp_path: Path) -> None:
    """With a clip regenerated for vertical, vertical shows it as it is; master shows the
    final; a shot without a regenerated clip falls back to a reframe of its final, and a note
    says so."""
    prepared = _prepared(tmp_path)
    results = [*DRAFTS, _done("kite"), _done("kite", 1, "vertical")]
    assert _chosen(prepared, results, "vertical") == [
        ("kite", "vertical", 1, "as_is", (0.25, 0.4)),
        ("dog", "", 2, "reframe", (0.5, 0.5)),
    ]
    assert _chosen(prepared, results, "master")[0][:3] == ("kite", "", 1)
    vertical = prepared.loaded.pipeline.deliverables[1]
    assert choose_clips(prepared, results, vertical).notes == (
        "vertical: dog has no clip regenerated at 9:16 yet: reframed instead",
    )


def test_a_final_that_failed_leaves_the_draft_in_its_place(tmp_path: Path) -> None:
    """Without a finished final the drafted shot shows its picked draft; a failed pick of the
    undrafted shot leaves it out."""
    prepared = _prepared(tmp_path)
    results = [*DRAFTS[:3], _failed("dog", 2), _failed("kite")]
    assert _chosen(prepared, results, "master") == [("kite", "draft", 2, "reframe", (0.25, 0.4))]


def test_an_output_block_pads_as_it_always_did(tmp_path: Path) -> None:
    """A pipeline with an output: block shows each shot's pick, padded (bars), as before."""
    text = (
        FILM.split("outputs:")[0]
        .replace(", draft: true, takes: 2", "")
        .replace("pick: 2,\n     aspect: {square: pad}", "\n     ")
        + "output: {size: 720x1280}\n"
    )
    prepared = _prepared(tmp_path, text)
    results = [_done("kite"), _done("dog", 1), _done("dog", 2)]
    assert _chosen(prepared, results, "main") == [
        ("kite", "", 1, "pad", (0.25, 0.4)), ("dog", "", 2, "pad", (0.5, 0.5)),
    ]  # fmt: skip
    assert isinstance(prepared.loaded.pipeline.deliverables[0], DeliverableSpec)


def test_a_shot_already_of_the_deliverables_shape_needs_no_regeneration_note(
    tmp_path: Path,
) -> None:
    """The report's drafts run: every shot was noted "no clip regenerated for 'master'" though
    master is 16:9 like the clips. Only shots of another shape are named, once per deliverable,
    and in drafts mode the note says the regenerated clip comes with the finals; a drafted shot
    awaiting its pick (no final rendered) counts by its drafts' shape."""
    text = FILM.replace(" pick: 2,\n     aspect: {square: pad}", "\n     aspect: {square: pad}")
    text = text.replace("{name: master}", "{name: master, ratio: '16:9', aspect: regenerate}")
    prepared = _prepared(tmp_path, text)
    results = [*DRAFTS]
    master = prepared.loaded.pipeline.deliverables[0]
    vertical = prepared.loaded.pipeline.deliverables[1]
    assert choose_clips(prepared, results, master, drafts=True).notes == ()
    assert choose_clips(prepared, results, vertical, drafts=True).notes == (
        "vertical: kite, dog have no clip regenerated at 9:16 yet (it is generated with the "
        "finals): reframed instead",
    )
