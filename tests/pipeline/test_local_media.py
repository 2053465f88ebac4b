"""Local reference video and audio: read with PyAV, checked before spending, keyed by content."""

from __future__ import annotations

import base64
import hashlib
import io
import random
from pathlib import Path

import pytest
from PIL import Image

from rdpipe.prepare.pipeline import prepare_pipeline
from tests.pipeline.requests import HEAD, TAIL, Cli, Tree, bodies


def _one(kind: str, source: str) -> str:
    """References and shots of a file with one reference, carried by its one shot."""
    shots = "shots:\n  - {id: a, prompt: x, references: [v]}\n"
    return f"references:\n  v: {{{kind}: {source}}}\n" + shots


#: name -> (the files beside sb.yaml as {path: media file name}, the references and shots of
#: sb.yaml, the one error ``validate`` reports).
CASES: dict[str, tuple[dict[str, str], str, str]] = {
    "audio without an image or video": (
        {"refs/voice.wav": "voice.wav"},
        _one("audio", "refs/voice.wav"),
        "sb.yaml:7:36: shots[0].references: audio references need an image or video reference "
        "in the same shot",
    ),
    "a 20 s video": (
        {"refs/walk.mp4": "long.mp4"},
        _one("video", "refs/walk.mp4"),
        "sb.yaml:5:14: references.v.video: 'refs/walk.mp4' lasts 20.0 s; a reference video may "
        "last at most 15 s",
    ),
    "a 1 s video": (
        {"refs/blink.mp4": "blink.mp4"},
        _one("video", "refs/blink.mp4"),
        "sb.yaml:5:14: references.v.video: 'refs/blink.mp4' lasts 1.0 s; a reference video must "
        "last at least 2 s",
    ),
    "an unreadable file": (
        {"refs/walk.mp4": "garbage.mp4"},
        _one("video", "refs/walk.mp4"),
        "sb.yaml:5:14: references.v.video: 'refs/walk.mp4' is not a video or audio file rdpipe "
        "can read (invalid data found when processing input)",
    ),
    "a truncated mp4": (
        {"refs/walk.mp4": "truncated.mp4"},
        _one("video", "refs/walk.mp4"),
        "sb.yaml:5:14: references.v.video: 'refs/walk.mp4' is not a video or audio file rdpipe "
        "can read (invalid data found when processing input)",
    ),
    "VP9 video": (
        {"refs/walk.webm": "walk.webm"},
        _one("video", "refs/walk.webm"),
        "sb.yaml:5:14: references.v.video: 'refs/walk.webm' is Matroska/WebM with VP9 video; a "
        "reference video must be an MP4 or MOV file with H.264 or H.265 video",
    ),
    "audio given as a video": (
        {"refs/voice.wav": "voice.wav"},
        _one("video", "refs/voice.wav"),
        "sb.yaml:5:14: references.v.video: 'refs/voice.wav' is WAV with no video; a reference "
        "video must be an MP4 or MOV file with H.264 or H.265 video",
    ),
    "a video given as audio": (
        {"refs/walk.mp4": "walk.mp4", "refs/k.png": "k.png"},
        "references:\n  s: {audio: refs/walk.mp4}\n  k: {image: refs/k.png}\n"
        "shots:\n  - {id: a, prompt: x, references: [k, s]}\n",
        "sb.yaml:5:14: references.s.audio: 'refs/walk.mp4' is MP4; a reference audio file must "
        "be a WAV or MP3 file",
    ),
    "two videos of 8 s and 9 s in one shot": (
        {"refs/a.mp4": "eight.mp4", "refs/b.mp4": "nine.mp4"},
        "references:\n  a: {video: refs/a.mp4}\n  b: {video: refs/b.mp4}\n"
        "shots:\n  - {id: a, prompt: x, references: [a, b]}\n",
        "sb.yaml:8:36: shots[0].references: the reference video files 'refs/a.mp4' (8.0 s) and "
        "'refs/b.mp4' (9.0 s) last 17.0 s together; a shot may carry at most 15 s of reference "
        "video",
    ),
    "a video outside the pipeline's folder": (
        {"walk.mp4": "walk.mp4"},
        _one("video", "../walk.mp4"),
        "sub/sb.yaml:5:14: references.v.video: '../walk.mp4' is outside the pipeline's folder "
        "{root}/sub; move it inside or pass --allow-outside-files if you trust this pipeline",
    ),
}  # fmt: skip


def _tree(make_tree: Tree, media_files: dict[str, bytes], files: dict[str, str], text: str) -> Path:
    pipeline = "sub/sb.yaml" if any(".." in line for line in text.splitlines()) else "sb.yaml"
    tree: dict[str, object] = {pipeline: HEAD + text}
    for path, name in files.items():
        tree[path] = ("image", (400, 400)) if name.endswith(".png") else media_files[name]
    return make_tree(tree)


@pytest.mark.parametrize("case", list(CASES))
def test_validate_refuses_with_the_place_and_the_measure(
    case: str, make_tree: Tree, media_files: dict[str, bytes], cli: Cli
) -> None:
    """Each local media rule exits 2 with one message naming the file, its measure and the
    limit, at file:line."""
    files, text, expected = CASES[case]
    root = _tree(make_tree, media_files, files, text)
    pipeline = "sub/sb.yaml" if expected.startswith("sub/") else "sb.yaml"
    result = cli("validate", pipeline)
    assert result.exit_code == 2, result.stdout
    assert result.stderr == "error: " + expected.format(root=root.resolve()) + TAIL


VALID = (
    "references:\n"
    "  k: {image: refs/k.png}\n"
    "  walk: {video: refs/walk.mp4}\n"
    "  turn: {video: refs/walk.mov, send_as: hosted}\n"
    "  voice: {audio: refs/voice.wav}\n"
    "  hum: {audio: refs/voice.mp3}\n"
    "shots:\n"
    "  - {id: a, prompt: '@image1 walks like @video1', references: [k, walk, voice]}\n"
    "  - {id: b, prompt: '@video1 turns', references: [turn, walk, hum]}\n"
)


def _valid_tree(make_tree: Tree, media_files: dict[str, bytes]) -> Path:
    files = {"refs/k.png": "k.png", "refs/walk.mp4": "walk.mp4", "refs/walk.mov": "walk.mov",
             "refs/voice.wav": "voice.wav", "refs/voice.mp3": "voice.mp3"}  # fmt: skip
    return _tree(make_tree, media_files, files, VALID)


def test_local_video_and_audio_are_keyed_by_their_content(
    make_tree: Tree, media_files: dict[str, bytes], cli: Cli
) -> None:
    """MP4, MOV, WAV and MP3 pass; each goes in the body as its sha256 until hosted, the image
    inline, in the order the shot names them."""
    _valid_tree(make_tree, media_files)
    assert cli("validate", "sb.yaml").stdout == "sb.yaml: OK (2 shots)\n"

    def sha256(name: str) -> str:
        return hashlib.sha256(media_files[name]).hexdigest()

    content = bodies(cli)["b"]["metadata"]["content"]
    assert content == [
        {"type": "video_url", "video_url": {"url": f"<local video sha256:{sha256('walk.mov')}>"},
         "role": "reference_video"},
        {"type": "video_url", "video_url": {"url": f"<local video sha256:{sha256('walk.mp4')}>"},
         "role": "reference_video"},
        {"type": "audio_url", "audio_url": {"url": f"<local audio sha256:{sha256('voice.mp3')}>"},
         "role": "reference_audio"},
    ]  # fmt: skip
    image = bodies(cli)["a"]["metadata"]["content"][0]["image_url"]["url"]
    assert image.startswith("data:image/png;base64,iVBORw0KGgo")


def test_prepared_pipeline_lists_each_reference_sent_by_url_once_in_file_order(
    make_tree: Tree, media_files: dict[str, bytes]
) -> None:
    """local_files: one entry per reference sent by URL (not the inline image), however many
    shots cite it, in file order, with its digests, extension, type and duration."""
    root = _valid_tree(make_tree, media_files)
    prepared = prepare_pipeline(root / "sb.yaml", cwd=root)
    found = [
        (located.where, file.kind, file.shown, file.extension, file.content_type, file.send_as)
        for located in prepared.local_files
        for file in [located.file]
    ]
    assert found == [
        (("references", "walk", "video"), "video", "refs/walk.mp4", "mp4", "video/mp4", "hosted"),
        (("references", "turn", "video"), "video", "refs/walk.mov", "mov", "video/quicktime",
         "hosted"),
        (("references", "voice", "audio"), "audio", "refs/voice.wav", "wav", "audio/wav", "hosted"),
        (("references", "hum", "audio"), "audio", "refs/voice.mp3", "mp3", "audio/mpeg", "hosted"),
    ]  # fmt: skip
    for located, name in zip(prepared.local_files, ["walk.mp4", "walk.mov", "voice.wav",
                                                    "voice.mp3"], strict=True):  # fmt: skip
        data = media_files[name]
        file = located.file
        assert (file.size, file.path) == (len(data), (root / "refs" / file.path.name).resolve())
        assert file.md5 == hashlib.md5(data).hexdigest()
        assert file.sha256 == hashlib.sha256(data).hexdigest()
        assert file.data_url is None and file.duration is not None
    durations = [round(located.file.duration or 0, 1) for located in prepared.local_files]
    assert durations == [4.0, 4.0, 3.0, 3.0]


#: name -> (the references of sb.yaml, carried by its one shot with an image, the one error).
SENDING: dict[str, tuple[str, str]] = {
    "send_as on a URL": (
        "  v: {image: 'https://e.com/k.png', send_as: hosted}\n",
        "sb.yaml:5:46: references.v.send_as: send_as applies to local files only; "
        "'https://e.com/k.png' is a URL, sent as written",
    ),
    "send_as on a data URL": (
        "  v: {image: 'data:image/png;base64,iVBO', send_as: inline}\n",
        "sb.yaml:5:53: references.v.send_as: send_as applies to local files only; a data: URL "
        "is sent as written",
    ),
    "a video sent inline": (
        "  v: {video: refs/walk.mp4, send_as: inline}\n",
        "sb.yaml:5:38: references.v.send_as: local video and audio are always hosted: the API "
        "takes only URLs for them; remove send_as: inline from this video reference",
    ),
    "audio as an asset": (
        "  v: {audio: refs/voice.wav, asset: true}\n",
        "sb.yaml:5:37: references.v.asset: asset: true is for portrait images; the asset library "
        "takes no audio references",
    ),
    "a data URL as an asset": (
        "  v: {image: 'data:image/png;base64,iVBO', asset: true}\n",
        "sb.yaml:5:51: references.v.asset: asset: true registers a local picture (rdpipe "
        "uploads it, then registers it), not a data: URL; save the picture next to the pipeline "
        "and give its path",
    ),
    "a URL as an asset": (
        "  v: {image: 'https://e.com/mara.png', asset: true}\n",
        "sb.yaml:5:47: references.v.asset: asset: true registers a local picture (rdpipe "
        "uploads it, then registers it), not 'https://e.com/mara.png'; save the picture next to "
        "the pipeline and give its path",
    ),
    "an asset sent as": (
        "  v: {image: refs/k.png, asset: true, send_as: hosted}\n",
        "sb.yaml:5:48: references.v.send_as: an asset is sent as its asset:// URI, so send_as "
        "does not apply; remove send_as or asset: true",
    ),
}


@pytest.mark.parametrize("case", list(SENDING))
def test_validate_refuses_a_way_of_sending_that_cannot_be(
    case: str, make_tree: Tree, media_files: dict[str, bytes], cli: Cli
) -> None:
    """send_as and asset where they cannot apply exit 2 with one message at the key."""
    references, expected = SENDING[case]
    text = f"references:\n{references}  k: {{image: refs/k.png}}\n"
    text += "shots:\n  - {id: a, prompt: x, references: [k, v]}\n"
    files = {"refs/k.png": "k.png", "refs/walk.mp4": "walk.mp4", "refs/voice.wav": "voice.wav"}
    _tree(make_tree, media_files, files, text)
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2, result.stdout
    assert result.stderr == "error: " + expected + TAIL


def test_heavy_inline_images_suggest_hosting(make_tree: Tree, cli: Cli) -> None:
    """Over 20 MB of inline images in one request is a warning naming the weight and the
    setting that avoids it; hosted, the same image warns of nothing."""
    noise = Image.frombytes("RGB", (2600, 2600), random.Random(14).randbytes(2600 * 2600 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG", compress_level=0)
    inline = len("data:image/png;base64,") + len(base64.b64encode(buffer.getvalue()))
    text = "references:\n  k: {image: k.png}\nshots:\n  - {id: a, prompt: x, references: [k]}\n"
    make_tree({"sb.yaml": HEAD + text, "k.png": buffer.getvalue()})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        f"sb.yaml:7:5: shots[0]: warning: the shot's inline images add {inline / 2**20:.1f} MB to "
        "its request body (more than 20 MB, which relays may refuse); set send_images_as: hosted "
        "to upload each image once and send its URL instead\n"
    )
    make_tree({"sb.yaml": HEAD + "send_images_as: hosted\n" + text})
    assert cli("validate", "sb.yaml").stderr == ""
