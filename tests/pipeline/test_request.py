"""The typed request: built in steps, serialised once, and keyed exactly as before it was typed."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rdpipe.plan import plan_run, shot_keys
from rdpipe.prepare.pipeline import prepare_pipeline
from rdpipe.request import (
    ContinuityFrame,
    Fields,
    GenerationRequest,
    Media,
    canonical_json,
)

#: Every kind of field a request carries: text outside ASCII, quotes and tabs, written metadata
#: (nested, a float, a seed for take 1), a written callback, URL and data-URL references, derived
#: and given seeds, and a shot continuing another.
PIPELINE = r"""version: 1
name: film
model: doubao-seedance-2-0-720p
defaults: {seconds: 5, ratio: '16:9', metadata: {watermark: false}}
vars: {mood: "héron 🌊 grey"}
references:
  hero: {image: "https://cdn.example.com/hero.png?sig=abc"}
  beat: {image: "data:image/png;base64,iVBORw0KGgo="}
shots:
  - id: coast
    prompt: "A {{ mood }} coast with @image1 and @image2, naïve «quotes» \"x\" \\ tab	end"
    references: [hero, beat]
    generate_audio: true
    callback_url: "https://hooks.example.com/cb?t={{ mood }}"
    metadata: {camera_fixed: true, seed: 42, extra: {b: 1.50, a: [1, "two", null]}, ünï: "ø"}
    takes: 3
  - id: night
    prompt: "Night falls, ☾"
    first_frame: {shot: coast}
    last_frame: "https://cdn.example.com/end.png"
    seconds: 4
    resolution: 720p
  - id: dawn
    prompt: "dawn"
    seeds: [7, 8]
output: {path: out/film.mp4}
"""

#: The keys these shots had while requests were dictionaries (rdpipe 0.x before issue 12):
#: saved run state and lock files hold them, so they must never change.
KNOWN_KEYS = {
    "coast#1": "eaa746b2580a9d37b560b80884d54d0c11b4b9b7ab704fbe143a4b95cf94eb7d",
    "coast#2": "72e0d612910bde32b059136efc84ac2f5913f53863981007a272481e97aeb5db",
    "coast#3": "9b2f86bf5458c6524b81b0674bbdabf7f7c4605ea6dd5e6297777a62f27517de",
    "night": "97eaa427a50c73cceab6e31e3daa52188c0f953d67284af7f537bb2a8152c223",
    "dawn#1": "6edd29677e24f9adb0981c364bea52cd7fa249a0697bcbe60a3146723ca54c6d",
    "dawn#2": "788259b5f6b7ceb66fbbd308870018ed2357c05f895a495d11f9b5a6c6abbb9c",
}

FRAME = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="


def test_keys_are_the_ones_saved_state_holds(tmp_path: Path) -> None:
    """Keys and derived seeds of a pipeline using every field are those computed before typing."""
    path = tmp_path / "film.yaml"
    path.write_text(PIPELINE, encoding="utf-8")
    shots = prepare_pipeline(path).shots
    assert shot_keys(shots) == KNOWN_KEYS
    assert [shot.request.metadata.seed for shot in shots[:3]] == [None, 710268033, 1869588076]
    assert ("seed", 42) in shots[0].request.metadata.extra.items  # written, kept for take 1


def test_body_is_canonical_json_in_one_byte_form() -> None:
    """Keys sorted, no spaces, text as UTF-8: the same bytes the key is hashed from."""
    request = (
        GenerationRequest("m", "une île ☕", "5")
        .with_settings(ratio="16:9", generate_audio=False)
        .with_extra({"watermark": False, "z": 1.5})
        .with_seed(3)
    )
    assert (
        request.body
        == (
            '{"metadata":{"generate_audio":false,"ratio":"16:9","seed":3,"watermark":false,'
            '"z":1.5},"model":"m","prompt":"une île ☕","seconds":"5"}'
        ).encode()
    )
    assert request.body is request.body  # serialised once
    assert (
        hashlib.sha256(request.body).hexdigest()
        == hashlib.sha256(canonical_json(request.to_json())).hexdigest()
    )


def test_first_frame_step_replaces_the_placeholder() -> None:
    """with_first_frame puts the frame where the placeholder was, and nothing else changes."""
    waiting = GenerationRequest("m", "night", "4").with_content(
        [ContinuityFrame("coast"), Media("image", "https://e.com/end.png", "last_frame")]
    )
    last = '{"image_url":{"url":"https://e.com/end.png"},"role":"last_frame","type":"image_url"}'
    assert waiting.continues_from == "coast"
    assert (
        waiting.body
        == (
            '{"metadata":{"content":[{"image_url":{"url":"<last frame of shot coast>"},'
            f'"role":"first_frame","type":"image_url"}},{last}]}},'
            '"model":"m","prompt":"night","seconds":"4"}'
        ).encode()
    )
    started = waiting.with_first_frame(FRAME)
    assert started.continues_from is None
    assert (
        started.body
        == (
            f'{{"metadata":{{"content":[{{"image_url":{{"url":"{FRAME}"}},'
            f'"role":"first_frame","type":"image_url"}},{last}]}},'
            '"model":"m","prompt":"night","seconds":"4"}'
        ).encode()
    )
    assert waiting.continues_from == "coast"  # the rendered request is unchanged


def test_first_frame_step_needs_a_placeholder() -> None:
    """A request that continues no shot has no first frame to fill in."""
    with pytest.raises(ValueError, match="does not start from another shot's last frame"):
        GenerationRequest("m", "p", "5").with_first_frame(FRAME)


def test_first_frame_step_takes_the_png_bytes_inline() -> None:
    """with_first_frame_png puts the PNG's bytes in the placeholder's place as a base64 data URL."""
    png = b"\x89PNG\r\n\x1a\n frame"
    waiting = GenerationRequest("m", "night", "4").with_content([ContinuityFrame("coast")])
    assert ContinuityFrame.filled(png) == Media(
        "image", "data:image/png;base64,iVBORw0KGgogZnJhbWU=", "first_frame"
    )
    assert waiting.with_first_frame_png(png) == waiting.with_first_frame(
        "data:image/png;base64,iVBORw0KGgogZnJhbWU="
    )
    with pytest.raises(ValueError, match="does not start from another shot's last frame"):
        GenerationRequest("m", "p", "5").with_first_frame_png(png)


def test_the_runs_webhook_is_sent_over_the_files_callback(tmp_path: Path) -> None:
    """A job's request to send carries the run's webhook in place of the file's callback_url;
    the rendered request (the journal's) and the cache key keep the file's."""
    path = tmp_path / "film.yaml"
    path.write_text(PIPELINE, encoding="utf-8")
    (job, *_) = plan_run("film", prepare_pipeline(path).shots).jobs
    hook = "http://127.0.0.1:9/hook/s3cret/coast%231"
    hooked = job.with_webhook(hook)
    assert job.request is job.shot.request  # no webhook: the rendered request is sent
    assert hooked.request.metadata.callback_url == hook
    assert hooked.request.body == job.shot.request.with_callback(hook).body
    written = "https://hooks.example.com/cb?t=héron 🌊 grey"
    assert hooked.shot.request.metadata.callback_url == written
    assert hooked.key == job.key == KNOWN_KEYS["coast#1"]


def test_callback_step_sets_the_one_callback_url() -> None:
    """with_callback sets metadata.callback_url, replacing one written in the file."""
    written = GenerationRequest("m", "p", "5").with_callback("https://mine.test/cb")
    sent = written.with_callback("http://127.0.0.1:9/hook/s3cret/a")
    assert sent.body == (
        b'{"metadata":{"callback_url":"http://127.0.0.1:9/hook/s3cret/a"},'
        b'"model":"m","prompt":"p","seconds":"5"}'
    )
    assert written.metadata.callback_url == "https://mine.test/cb"


def test_request_is_immutable_all_the_way_down() -> None:
    """No field can be set, and written metadata is frozen into tuples and Fields."""
    written: dict[str, Any] = {"list": [1, {"a": [2]}]}
    request = GenerationRequest("m", "p", "5").with_extra(written)
    field = "prompt"
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(request, field, "q")
    assert request.metadata.extra == Fields((("list", (1, Fields((("a", (2,)),)))),))
    written["list"].append(3)  # the request holds a frozen copy
    assert request.metadata.extra.to_json() == {"list": [1, {"a": [2]}]}
    same = GenerationRequest("m", "p", "5").with_extra({"list": [1, {"a": [2]}]})
    assert (request, hash(request)) == (same, hash(same))


def test_values_json_cannot_carry_are_refused() -> None:
    """A set, or a mapping with a number for a name, is not JSON: refused when it is built."""
    with pytest.raises(TypeError, match="set is not a JSON value"):
        GenerationRequest("m", "p", "5").with_extra({"x": {1, 2}})
    with pytest.raises(TypeError, match="field names are text"):
        GenerationRequest("m", "p", "5").with_extra({"x": {1: "a"}})


def test_map_text_keeps_names_types_and_the_placeholder() -> None:
    """map_text changes text values only: names, numbers, booleans and placeholders stay."""
    request = (
        GenerationRequest("m", "p", "5")
        .with_extra({"name": ["v", 1, True, None]})
        .with_content([ContinuityFrame("a")])
    )
    shouted = request.map_text(str.upper).to_json()
    assert shouted == {
        "model": "M",
        "prompt": "P",
        "seconds": "5",
        "metadata": {
            "name": ["V", 1, True, None],
            "content": [
                {
                    "type": "image_url",
                    "image_url": {"url": "<last frame of shot a>"},
                    "role": "first_frame",
                }
            ],
        },
    }


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)
written_metadata = st.dictionaries(
    st.text(max_size=8).filter(
        lambda name: (
            name not in {"ratio", "resolution", "generate_audio", "callback_url"}
            and name not in {"content", "seed"}
        )
    ),
    json_values,
    max_size=4,
)


@given(written_metadata, st.text(max_size=20))
def test_written_metadata_is_sent_as_written(metadata: dict[str, Any], prompt: str) -> None:
    """Any JSON written under metadata: gives the body a plain dictionary would have given."""
    request = GenerationRequest("m", prompt, "5").with_settings(ratio="1:1").with_extra(metadata)
    plain: dict[str, Any] = {"model": "m", "prompt": prompt, "seconds": "5"}
    plain["metadata"] = {"ratio": "1:1", **metadata}
    assert request.body == canonical_json(plain)
    assert request.to_json() == plain
    assert json.loads(request.body) == plain
