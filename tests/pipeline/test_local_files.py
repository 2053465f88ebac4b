"""LocalFile entries: their key forms, their hosting step, and keys unchanged by hosting."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from pathlib import Path

import pytest

from rdpipe.plan import shot_keys
from rdpipe.prepare.pipeline import prepare_pipeline
from rdpipe.render import derived_seed
from rdpipe.request import ContinuityFrame, GenerationRequest, LocalFile, Media
from rdpipe.state import redact_request
from tests.pipeline.requests import Cli, Tree, bodies

#: A 320x320 one-bit PNG (124 bytes), written byte for byte so every machine keys it alike.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAUAAAAFAAQAAAADl65gHAAAAQ0lEQVR42u3KsQ0AAAgDoOr/P+sLriYwU5ObjiiK"
    "oiiKoiiKoiiKoiiKoiiKoiiKoiiKoiiKoiiKoiiKoiiKoii+iwtVvgN/95uEZgAAAABJRU5ErkJggg=="
)
PIPELINE = (
    "version: 1\nname: demo\nmodel: doubao-seedance-2-0-720p\n{send}"
    "references:\n  k: {{image: refs/k.png}}\n"
    "shots:\n"
    "  - {{id: a, prompt: '@image1 walks', references: [k], takes: 2}}\n"
    "  - {{id: b, prompt: 'starts here', first_frame: refs/k.png}}\n"
)
#: The keys of PIPELINE's takes as rdpipe computed them before local files could be hosted:
#: prepare_pipeline + plan.shot_keys on commit f0eb97f (main's HEAD before issue 14's file
#: side), with refs/k.png = PNG. Saved state holds keys like these: they must never change.
KEYS_BEFORE_HOSTING = {
    "a#1": "cc42a70666d8346e814f9863ef769a087bfb9be3e5712a4cf7cd9c840acbbd8c",
    "a#2": "3ca68234571cd5e642eef90681ebf051de163eff595e8df0d9c0fcb6007dce12",
    "b": "eba0251f3821037d39f0d42e93ac428fdb1a0eb7f2ff1e48fb57132ebc64ed63",
}
#: Take 2's derived seed on that commit.
SEED_BEFORE_HOSTING = 2026861867

VIDEO = LocalFile(
    kind="video",
    role="reference_video",
    path=Path("/films/refs/walk.mp4"),
    shown="refs/walk.mp4",
    size=1000,
    md5="0" * 32,
    sha256="ab" * 32,
    extension="mp4",
    content_type="video/mp4",
    send_as="hosted",
    duration=4.0,
)
IMAGE = LocalFile(
    kind="image",
    role="first_frame",
    path=Path("/films/refs/k.png"),
    shown="refs/k.png",
    size=len(PNG),
    md5=hashlib.md5(PNG).hexdigest(),
    sha256=hashlib.sha256(PNG).hexdigest(),
    extension="png",
    content_type="image/png",
    send_as="asset",
    data_url="data:image/png;base64," + base64.b64encode(PNG).decode(),
)


def _write(root: Path, send: str) -> Path:
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "k.png").write_bytes(PNG)
    (root / "sb.yaml").write_text(PIPELINE.format(send=send))
    return root / "sb.yaml"


@pytest.mark.parametrize("send", ["", "send_images_as: inline\n", "send_images_as: hosted\n"])
def test_keys_of_local_images_are_the_keys_saved_state_holds(tmp_path: Path, send: str) -> None:
    """A pipeline with a local image keys its takes byte for byte as before hosting existed,
    whether images go inline or hosted; take 2's derived seed is the one it had."""
    path = _write(tmp_path, send)
    prepared = prepare_pipeline(path, cwd=tmp_path)
    assert shot_keys(prepared.shots) == KEYS_BEFORE_HOSTING
    assert prepared.shots[1].request.metadata.seed == SEED_BEFORE_HOSTING


def test_hosted_images_change_no_body_and_are_listed(make_tree: Tree, cli: Cli) -> None:
    """Switching send_images_as changes neither the rendered bodies (as plan shows them) nor the
    seeds; hosted, the image is listed at each place it is written (its reference, shot b's
    first frame), to upload."""
    root = make_tree({})
    path = _write(root, "")
    inline = bodies(cli)
    prepared_inline = prepare_pipeline(path, cwd=root)
    path = _write(root, "send_images_as: hosted\n")
    assert bodies(cli) == inline
    hosted = prepare_pipeline(path, cwd=root)
    assert prepared_inline.local_files == ()
    located, frame = hosted.local_files
    assert (located.where, frame.where) == (
        ("references", "k", "image"),
        ("shots", 1, "first_frame"),
    )
    assert (located.file.send_as, located.file.extension, located.file.size) == (
        "hosted",
        "png",
        124,
    )
    assert located.file.md5 == frame.file.md5 == hashlib.md5(PNG).hexdigest()
    assert [shot.request.body for shot in hosted.shots] == [
        shot.request.body for shot in prepared_inline.shots
    ]


def test_a_reference_may_choose_its_own_way(tmp_path: Path) -> None:
    """send_as on a reference wins over send_images_as; frames follow send_images_as; asset:
    true makes the portrait an asset entry."""
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "k.png").write_bytes(PNG)
    (tmp_path / "sb.yaml").write_text(
        "version: 1\nname: demo\nmodel: doubao-seedance-2-0-720p\nsend_images_as: hosted\n"
        "references:\n  k: {image: refs/k.png, send_as: inline}\n"
        "  mara: {image: refs/k.png, asset: true}\n"
        "shots:\n  - {id: a, prompt: '@image1 @image2', references: [k, mara]}\n"
        "  - {id: b, prompt: x, first_frame: refs/k.png}\n"
    )
    prepared = prepare_pipeline(tmp_path / "sb.yaml", cwd=tmp_path)
    first, second = prepared.shots[0].request.metadata.content
    assert isinstance(first, Media) and first.url.startswith("data:image/png;base64,")
    assert isinstance(second, LocalFile) and second.send_as == "asset"
    (frame,) = prepared.shots[1].request.metadata.content
    assert isinstance(frame, LocalFile) and (frame.send_as, frame.role) == ("hosted", "first_frame")
    assert [(f.where, f.file.send_as) for f in prepared.local_files] == [
        (("references", "mara", "image"), "asset"),
        (("shots", 1, "first_frame"), "hosted"),
    ]


def test_key_forms() -> None:
    """A video or audio file reads as its sha256; a hosted image as its data URL, the body it
    has inline; a portrait as its own input (so marking a refused image ``asset: true`` makes
    a new request)."""
    assert VIDEO.key_url == f"<local video sha256:{'ab' * 32}>"
    assert dataclasses.replace(VIDEO, kind="audio").key_url.startswith("<local audio sha256:")
    assert IMAGE.key_url == f"<portrait sha256:{hashlib.sha256(PNG).hexdigest()}>"
    hosted_image = dataclasses.replace(IMAGE, send_as="hosted")
    assert hosted_image.key_url == IMAGE.data_url
    assert VIDEO.to_json() == {
        "type": "video_url",
        "video_url": {"url": f"<local video sha256:{'ab' * 32}>"},
        "role": "reference_video",
    }
    inline = GenerationRequest("m", "p", "5").with_content(
        [Media("image", hosted_image.key_url, "first_frame")]
    )
    hosted = GenerationRequest("m", "p", "5").with_content([hosted_image])
    assert hosted.body == inline.body
    assert derived_seed(hosted, 2) == derived_seed(inline, 2)


def test_hosting_step_puts_each_url_in_its_place() -> None:
    """with_hosted turns every local file into a Media entry by its URL, other entries kept."""
    request = GenerationRequest("m", "p", "5").with_content(
        [VIDEO, Media("image", "https://e.com/a.png", "reference_image"), IMAGE]
    )
    assert request.local_files == (VIDEO, IMAGE)
    sent = request.with_hosted({VIDEO: "https://cdn.test/v.mp4", IMAGE: "asset://asset-1"})
    assert sent.local_files == ()
    assert sent.metadata.content == (
        Media("video", "https://cdn.test/v.mp4", "reference_video"),
        Media("image", "https://e.com/a.png", "reference_image"),
        Media("image", "asset://asset-1", "first_frame"),
    )


def test_hosting_step_needs_every_url() -> None:
    """A local file without a URL is an error naming it, never a silently dropped entry."""
    request = GenerationRequest("m", "p", "5").with_content([VIDEO, IMAGE])
    with pytest.raises(ValueError, match=r"no hosted URL for 'refs/k\.png'"):
        request.with_hosted({VIDEO: "https://cdn.test/v.mp4"})


def test_map_text_keeps_local_files_but_redacts_an_images_inline_form() -> None:
    """Redaction (and plan's shortening) reach a hosted image's data URL as they reach an inline
    one; a video's key form and a continuity placeholder are kept."""
    request = GenerationRequest("m", "p", "5").with_content([VIDEO, IMAGE])
    redacted = redact_request(request)
    video, image = redacted.metadata.content
    assert video == VIDEO
    assert isinstance(image, LocalFile) and image.data_url is not None
    assert image.data_url.startswith("data:image/png;base64,<")
    inline = GenerationRequest("m", "p", "5").with_content(
        [VIDEO, Media("image", IMAGE.key_url, "first_frame")]
    )
    assert redact_request(inline).body == redacted.body
    frame = GenerationRequest("m", "p", "5").with_content([ContinuityFrame("a")])
    assert frame.map_text(str.upper).metadata.content == (ContinuityFrame("a"),)
