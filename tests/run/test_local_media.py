"""Local media of every kind through the CLI against the simulator (issue 14).

Each file is uploaded at most once (across runs, shots and pipelines of one folder), never with
the key; requests carry the hosted URLs with the documented types and roles; switching images
between inline and hosted regenerates nothing; a hosted file that is gone is uploaded again;
portraits are registered once, waited for and sent as ``asset://``; a failed audit fails its
shot with one paragraph while the others go on; a refused extension goes to the shared store,
or, with none, is refused before anything is sent on the next run.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from PIL import Image

from rdpipe.ffmpeg_path import find_ffmpeg
from rdpipe.sim import MediaRules, SimServer
from tests.pipeline.media_files import make_media
from tests.run.conftest import SIM_API_KEY, submits, summary_of, write

MODEL = "doubao-seedance-2-0-480p"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A 4 s H.264 mp4, a 3 s wav and two PNG portraits, by file name."""
    made = make_media(find_ffmpeg(os.environ), tmp_path_factory.mktemp("media"))
    for name, colour in (("hero.png", (200, 40, 40)), ("mara.png", (40, 90, 200))):
        buffer = io.BytesIO()
        Image.new("RGB", (640, 480), colour).save(buffer, "PNG")
        made[name] = buffer.getvalue()
    return made


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def folder_with(sim: SimServer, tmp_path: Path, media: dict[str, bytes], *names: str) -> Path:
    """``tmp_path`` with ``refs/<name>`` for each name; the session's simulator forgets any
    earlier test's upload of those files, so each test starts with nothing hosted."""
    (tmp_path / "refs").mkdir(exist_ok=True)
    for name in names:
        (tmp_path / "refs" / name).write_bytes(media[name])
        hosted = f"{md5(media[name])}.{name.rsplit('.', 1)[1]}"
        if hosted in sim.hosted_files():
            sim.remove_hosted(hosted)
    return tmp_path


def pipeline(
    folder: Path,
    shots: list[str],
    *,
    references: dict[str, str],
    name: str = "film",
    top: str = "",
) -> Path:
    """A pipeline in ``folder``: ``references`` as YAML flow mappings, ``shots`` as lines."""
    lines = ["version: 1", f"name: {name}", f"model: {MODEL}",
             "defaults: {seconds: 4, ratio: '16:9'}", *([top] if top else [])]  # fmt: skip
    lines.append("references:")
    lines += [f"  {ref}: {spec}" for ref, spec in references.items()]
    lines += ["shots:", *(f"  - {shot}" for shot in shots), f"output: {{path: out/{name}.mp4}}"]
    return write(folder / f"{name}.yaml", "\n".join(lines) + "\n")


def puts(sim: SimServer) -> dict[str, int]:
    """PUTs the storage origin received, by object name (``<md5>.<ext>``)."""
    counted: dict[str, int] = {}
    for request in sim.requests():
        if request.origin == "storage" and request.method == "PUT":
            name = request.path.rsplit("/", 1)[-1]
            counted[name] = counted.get(name, 0) + 1
    return counted


def posted_bodies(sim: SimServer) -> list[dict[str, Any]]:
    submit = "POST /v1/video/generations"
    return [json.loads(r.body) for r in sim.requests() if r.endpoint == submit]


def content_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = body["metadata"]["content"]
    return content


def run(cli: Callable[..., Result], path: Path, *options: str) -> Result:
    return cli("run", str(path), "--json", *options)


SHOTS = [
    "{id: a, prompt: \"{{ ref('hero') }} walks as in {{ ref('walk') }} to {{ ref('voice') }}\", "
    "references: [hero, walk, voice]}",
    "{id: b, prompt: \"{{ ref('hero') }} as in {{ ref('walk') }}\", references: [hero, walk]}",
]
REFS = {"hero": "{image: refs/hero.png}", "walk": "{video: refs/walk.mp4}",
        "voice": "{audio: refs/voice.wav}"}  # fmt: skip


def test_each_file_is_put_once_across_runs_and_pipelines_and_never_with_the_key(
    online: SimServer, tmp_path: Path, media: dict[str, bytes], rdpipe_cli: Callable[..., Result]
) -> None:
    folder = folder_with(online, tmp_path, media, "hero.png", "walk.mp4", "voice.wav")
    path = pipeline(folder, SHOTS, references=REFS, top="send_images_as: hosted")

    first = run(rdpipe_cli, path)

    assert first.exit_code == 0, first.output
    names = {kind: f"{md5(media[file])}.{file.rsplit('.', 1)[1]}"
             for kind, file in (("image", "hero.png"), ("video", "walk.mp4"),
                                ("audio", "voice.wav"))}  # fmt: skip
    assert puts(online) == {name: 1 for name in names.values()}
    storage = [r for r in online.requests() if r.origin == "storage"]
    assert storage and all("authorization" not in r.headers for r in storage)
    assert all(SIM_API_KEY.encode() not in r.body for r in storage)
    hosted = {kind: f"{online.storage_url}/media/{name}" for kind, name in names.items()}
    assert len(posted_bodies(online)) == 2
    a_body = next(b for b in posted_bodies(online) if "to @audio1" in b["prompt"])
    assert content_of(a_body) == [
        {"type": "image_url", "image_url": {"url": hosted["image"]}, "role": "reference_image"},
        {"type": "video_url", "video_url": {"url": hosted["video"]}, "role": "reference_video"},
        {"type": "audio_url", "audio_url": {"url": hosted["audio"]}, "role": "reference_audio"},
    ]
    put_bodies = {r.path.rsplit("/", 1)[-1]: r for r in storage if r.method == "PUT"}
    assert put_bodies[names["video"]].headers["content-type"] == "video/mp4"
    assert put_bodies[names["audio"]].headers["content-type"] in ("audio/wav", "audio/x-wav")
    size = f"{len(media['walk.mp4']) / 1000:.1f} kB"
    events = [json.loads(line) for line in first.stdout.splitlines()]
    said = [e["message"] for e in events if "walk.mp4" in (e.get("message") or "")]
    assert said == [
        f"uploading refs/walk.mp4 ({size})",
        f"uploaded refs/walk.mp4 ({size}) in 0:00:00",
    ]

    # A rerun after an edit submits the edited shot and uploads nothing.
    online.clear_observations()
    path.write_text(path.read_text().replace("walks as in", "runs as in"))
    second = run(rdpipe_cli, path)
    assert second.exit_code == 0, second.output
    assert submits(online) == 1
    assert puts(online) == {}

    # A second pipeline of the same folder, sharing the files, uploads nothing either.
    other = pipeline(folder, [SHOTS[1].replace("id: b", "id: c")], references=REFS, name="other",
                     top="send_images_as: hosted")  # fmt: skip
    third = run(rdpipe_cli, other)
    assert third.exit_code == 0, third.output
    assert submits(online) == 2
    assert puts(online) == {}
    assert "GET /api/upload-url" not in online.counters()  # the state knew, and HEAD agreed


def test_switching_images_between_inline_and_hosted_regenerates_nothing(
    online: SimServer, tmp_path: Path, media: dict[str, bytes], rdpipe_cli: Callable[..., Result]
) -> None:
    folder = folder_with(online, tmp_path, media, "hero.png", "mara.png")
    shots = ["{id: a, prompt: \"{{ ref('hero') }} at dawn\", references: [hero]}",
             "{id: b, prompt: \"{{ ref('mara') }} at dusk\", references: [mara]}"]  # fmt: skip
    refs = {"hero": "{image: refs/hero.png}", "mara": "{image: refs/mara.png}"}
    path = pipeline(folder, shots, references=refs)

    inline = run(rdpipe_cli, path)

    assert inline.exit_code == 0, inline.output
    first_bodies = posted_bodies(online)
    urls = [content_of(body)[0]["image_url"]["url"] for body in first_bodies]
    assert all(url.startswith("data:image/png;base64,") for url in urls)
    assert puts(online) == {}

    online.clear_observations()
    hosting = "send_images_as: hosted\nreferences:\n"
    path.write_text(path.read_text().replace("references:\n", hosting))
    hosted = run(rdpipe_cli, path)
    assert hosted.exit_code == 0, hosted.output
    assert submits(online) == 0 and puts(online) == {}
    assert {shot["status"] for shot in summary_of(hosted)["shots"]} == {"cached"}

    # Per reference: hosted for one while the pipeline says inline; still nothing to redo.
    path.write_text(
        path.read_text()
        .replace("send_images_as: hosted\n", "")
        .replace("{image: refs/mara.png}", "{image: refs/mara.png, send_as: hosted}")
    )
    assert run(rdpipe_cli, path).exit_code == 0
    assert submits(online) == 0
    path.write_text(path.read_text().replace("at dusk", "at night"))
    edited = run(rdpipe_cli, path)
    assert edited.exit_code == 0, edited.output
    (body,) = posted_bodies(online)
    url = content_of(body)[0]["image_url"]["url"]
    assert url == f"{online.storage_url}/media/{md5(media['mara.png'])}.png"
    assert puts(online) == {f"{md5(media['mara.png'])}.png": 1}


def test_a_hosted_file_that_is_gone_is_uploaded_again(
    online: SimServer, tmp_path: Path, media: dict[str, bytes], rdpipe_cli: Callable[..., Result]
) -> None:
    folder = folder_with(online, tmp_path, media, "hero.png", "walk.mp4")
    shots = ["{id: a, prompt: \"{{ ref('hero') }} as in {{ ref('walk') }}\", "
             "references: [hero, walk]}"]  # fmt: skip
    refs = {"hero": "{image: refs/hero.png}", "walk": "{video: refs/walk.mp4}"}
    path = pipeline(folder, shots, references=refs)
    assert run(rdpipe_cli, path).exit_code == 0
    video = f"{md5(media['walk.mp4'])}.mp4"
    assert puts(online) == {video: 1}

    online.remove_hosted(video)
    online.clear_observations()
    path.write_text(path.read_text().replace("as in", "just as in"))
    again = run(rdpipe_cli, path)

    assert again.exit_code == 0, again.output
    assert puts(online) == {video: 1}
    assert video in online.hosted_files()
    (body,) = posted_bodies(online)
    assert content_of(body)[1]["video_url"]["url"] == f"{online.storage_url}/media/{video}"


PORTRAIT_SHOTS = [
    "{id: b, prompt: \"{{ ref('mara') }} smiles\", references: [mara]}",
    "{id: c, prompt: 'the sea at noon'}",
]
PORTRAIT = {"mara": "{image: refs/mara.png, asset: true}"}


def test_a_portrait_is_registered_once_and_sent_as_its_asset_uri(
    online: SimServer, tmp_path: Path, media: dict[str, bytes], rdpipe_cli: Callable[..., Result]
) -> None:
    folder = folder_with(online, tmp_path, media, "mara.png")
    path = pipeline(folder, PORTRAIT_SHOTS, references=PORTRAIT)

    first = run(rdpipe_cli, path)

    assert first.exit_code == 0, first.output
    assert online.counters().get("POST /api/assets/virtual/create") == 1
    mine = md5(media["mara.png"]) + ".png"
    asset = [a for a in online.assets() if a["source_url"].endswith(mine)][-1]
    assert asset["status"] == "Active"
    portrait_body = next(b for b in posted_bodies(online) if "smiles" in b["prompt"])
    assert content_of(portrait_body) == [
        {"type": "image_url", "image_url": {"url": asset["uri"]}, "role": "reference_image"}
    ]
    assert asset["uri"].startswith("asset://")

    online.clear_observations()
    path.write_text(path.read_text().replace("smiles", "laughs"))
    second = run(rdpipe_cli, path)
    assert second.exit_code == 0, second.output
    assert "POST /api/assets/virtual/create" not in online.counters()
    assert puts(online) == {}
    (body,) = posted_bodies(online)
    assert content_of(body)[0]["image_url"]["url"] == asset["uri"]

    listed = rdpipe_cli("assets", str(folder), "--json")
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.stdout)["portraits"]
    assert (row["name"], row["file"], row["status"], row["uri"]) == (
        "mara", "refs/mara.png", "Active", asset["uri"])  # fmt: skip


def test_a_failed_audit_fails_its_shot_in_one_paragraph_and_is_never_retried(
    online: SimServer, tmp_path: Path, media: dict[str, bytes], rdpipe_cli: Callable[..., Result]
) -> None:
    folder = folder_with(online, tmp_path, media, "mara.png")
    reason = "a real person (InputImageSensitiveContentDetected.PrivacyInformation)"
    online.media_rules = MediaRules(
        failing_portraits=frozenset({md5(media["mara.png"])}), failure_reason=reason
    )
    path = pipeline(folder, PORTRAIT_SHOTS, references=PORTRAIT)

    first = run(rdpipe_cli, path)

    assert first.exit_code == 1, first.output
    shots = {shot["id"]: shot for shot in summary_of(first)["shots"]}
    assert shots["c"]["status"] == "done"
    assert shots["b"]["status"] == "failed"
    expected = (
        f"portrait 'mara' (refs/mara.png) was refused by RelayDance's asset library: {reason}. "
        "The library's audit accepts synthetic (generated) portraits only; a photograph of a "
        "real person needs the model provider's own consent process, which RelayDance does not "
        "offer. Use a generated portrait, or, if the image shows no real face, send it as a "
        "plain reference (remove `asset: true`). rdpipe does not register this image again: a "
        "changed image is audited anew"
    )
    assert shots["b"]["message"] == expected
    assert submits(online) == 1  # the sea; the portrait's shot was never submitted

    online.clear_observations()
    again = run(rdpipe_cli, path)
    assert again.exit_code == 1
    assert {s["id"]: s["message"] for s in summary_of(again)["shots"]}["b"] == expected
    assert not any(key.startswith(("POST /api/assets", "GET /api/assets"))
                   for key in online.counters())  # fmt: skip
    listed = rdpipe_cli("assets", str(folder))
    assert "Failed" in listed.stdout and "mara" in listed.stdout


def test_a_refused_extension_goes_through_the_shared_store(
    online: SimServer,
    tmp_path: Path,
    media: dict[str, bytes],
    rdpipe_cli: Callable[..., Result],
    s3_store_url: str,
) -> None:
    online.media_rules = MediaRules(refused_extensions=frozenset({"mp4"}))
    folder = folder_with(online, tmp_path, media, "hero.png", "walk.mp4")
    (folder / "rdpipe.toml").write_text(f'[remote]\nurl = "{s3_store_url}"\n')
    shots = ["{id: a, prompt: \"{{ ref('hero') }} as in {{ ref('walk') }}\", "
             "references: [hero, walk]}"]  # fmt: skip
    refs = {"hero": "{image: refs/hero.png}", "walk": "{video: refs/walk.mp4}"}
    path = pipeline(folder, shots, references=refs)

    result = run(rdpipe_cli, path)

    assert result.exit_code == 0, result.output
    assert puts(online) == {}  # the relay refused the mp4; nothing else was hosted there
    (body,) = posted_bodies(online)
    url = content_of(body)[1]["video_url"]["url"]
    assert f"/media/{md5(media['walk.mp4'])}.mp4?" in url and "X-Amz-Signature=" in url
    fetched = httpx.get(url)  # presigned: no credentials needed
    assert fetched.status_code == 200 and fetched.content == media["walk.mp4"]
    assert SIM_API_KEY not in url


def test_a_refused_extension_with_no_store_is_refused_before_the_next_run_sends(
    online: SimServer, tmp_path: Path, media: dict[str, bytes], rdpipe_cli: Callable[..., Result]
) -> None:
    online.media_rules = MediaRules(refused_extensions=frozenset({"wav"}))
    folder = folder_with(online, tmp_path, media, "hero.png", "voice.wav")
    shots = ["{id: a, prompt: \"{{ ref('hero') }} sings {{ ref('voice') }}\", "
             "references: [hero, voice]}", "{id: c, prompt: 'the sea at noon'}"]  # fmt: skip
    refs = {"hero": "{image: refs/hero.png}", "voice": "{audio: refs/voice.wav}"}
    path = pipeline(folder, shots, references=refs)

    first = run(rdpipe_cli, path, "--no-remote")

    assert first.exit_code == 1, first.output
    shots_seen = {shot["id"]: shot for shot in summary_of(first)["shots"]}
    assert shots_seen["c"]["status"] == "done"
    why = (
        "refs/voice.wav cannot be hosted: RelayDance does not take .wav uploads (it answered: "
        "unsupported file type: wav; rdpipe asks again 24 h after that answer) and no shared clip "
        "store is set up. Give the file as an https URL, or set up an S3, GCS or Azure store "
        "([remote] url in rdpipe.toml)"
    )
    assert shots_seen["a"]["message"] == why

    online.clear_observations()
    second = run(rdpipe_cli, path, "--no-remote")
    assert second.exit_code == 2
    assert online.counters() == {}
    assert second.stderr == (
        f"error: {path}:7:18: references.voice.audio: {why}\n"
        "1 error; nothing was sent to the API.\n"
    )
    validated = rdpipe_cli("validate", str(path))
    assert validated.exit_code == 2
    assert f"error: {path}:7:18: references.voice.audio: {why}\n" in validated.stderr


def test_a_picture_refused_for_a_real_face_is_sent_again_once_marked_a_portrait(
    online: SimServer, tmp_path: Path, media: dict[str, bytes], rdpipe_cli: Callable[..., Result]
) -> None:
    """The upstream refuses the picture (an input refusal: not resent unchanged); marked
    ``asset: true`` it is another input, so the next run submits the shot as a portrait."""
    from rdpipe.sim import Faults

    folder = folder_with(online, tmp_path, media, "mara.png")
    path = pipeline(folder, PORTRAIT_SHOTS[:1], references={"mara": "{image: refs/mara.png}"})
    online.faults = Faults(
        task_failure_rate=1.0,
        failure_code="InputImageSensitiveContentDetected.PrivacyInformation",
        failing_prompts="smiles",
    )
    refused = run(rdpipe_cli, path)
    assert refused.exit_code == 1, refused.output
    assert submits(online) == 1

    online.faults = Faults()
    online.clear_observations()
    path.write_text(path.read_text().replace("{image: refs/mara.png}", PORTRAIT["mara"]))
    portrait = run(rdpipe_cli, path)

    assert portrait.exit_code == 0, portrait.output
    (body,) = posted_bodies(online)
    assert content_of(body)[0]["image_url"]["url"].startswith("asset://")


def test_offline_reruns_know_what_is_hosted_and_registered(
    tmp_path: Path, media: dict[str, bytes], rdpipe_cli: Callable[..., Result]
) -> None:
    """Each offline run starts its simulator on another port; the state records what it hosts
    under one name, so plan --offline and rdpipe assets --offline see it, and a rerun keeps
    one registration per portrait."""
    folder = tmp_path
    (folder / "refs").mkdir()
    (folder / "refs" / "mara.png").write_bytes(media["mara.png"])
    path = pipeline(folder, PORTRAIT_SHOTS, references=PORTRAIT)
    assert run(rdpipe_cli, path, "--offline").exit_code == 0
    path.write_text(path.read_text().replace("smiles", "laughs"))
    assert run(rdpipe_cli, path, "--offline").exit_code == 0

    listed = rdpipe_cli("assets", str(folder), "--offline", "--json")
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.stdout)["portraits"]
    assert (row["name"], row["status"], row["media_host"]) == (
        "mara",
        "Active",
        "offline simulator",
    )
    path.write_text(path.read_text().replace("laughs", "waves"))
    planned = rdpipe_cli("plan", str(path), "--offline", "--json")
    assert planned.exit_code == 0, planned.output
    (view,) = json.loads(planned.stdout)["local_media"]
    assert (view["name"], view["how"], view["detail"]) == ("mara", "registered", row["uri"])


def test_plan_says_a_refused_file_has_no_host(
    online: SimServer,
    tmp_path: Path,
    media: dict[str, bytes],
    rdpipe_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    online.media_rules = MediaRules(refused_extensions=frozenset({"wav"}))
    folder = folder_with(online, tmp_path, media, "hero.png", "voice.wav")
    shots = ["{id: a, prompt: \"{{ ref('hero') }} sings {{ ref('voice') }}\", "
             "references: [hero, voice]}"]  # fmt: skip
    refs = {"hero": "{image: refs/hero.png}", "voice": "{audio: refs/voice.wav}"}
    path = pipeline(folder, shots, references=refs)
    assert run(rdpipe_cli, path, "--no-remote").exit_code == 1

    planned = rdpipe_cli("plan", str(path), "--no-remote", "--json")

    assert planned.exit_code == 0, planned.output
    views = {view["name"]: view for view in json.loads(planned.stdout)["local_media"]}
    assert (views["voice"]["how"], views["voice"]["detail"]) == (
        "no host", "unsupported file type: wav")  # fmt: skip
    assert views["hero"]["how"] == "inline"
    monkeypatch.setenv("COLUMNS", "160")  # the table's cells on one line each
    shown = rdpipe_cli("plan", str(path), "--no-remote")
    table = shown.stdout[shown.stdout.index("Local media") :]
    assert "cannot be sent: RelayDance answered unsupported file type: wav" in table


def test_assets_of_a_path_that_does_not_exist_is_a_usage_error(
    tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    result = rdpipe_cli("assets", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "nope.yaml does not exist" in result.stderr


def test_plan_shows_an_inline_image_as_sent_only_by_shots_to_submit(
    online: SimServer, tmp_path: Path, media: dict[str, bytes], rdpipe_cli: Callable[..., Result]
) -> None:
    folder = folder_with(online, tmp_path, media, "hero.png")
    shots = ["{id: a, prompt: \"{{ ref('hero') }} at dawn\", references: [hero]}"]
    path = pipeline(folder, shots, references={"hero": "{image: refs/hero.png}"})

    def how() -> str:
        planned = rdpipe_cli("plan", str(path), "--json")
        assert planned.exit_code == 0, planned.output
        (view,) = json.loads(planned.stdout)["local_media"]
        return str(view["how"])

    assert how() == "inline"
    assert run(rdpipe_cli, path).exit_code == 0
    assert how() == "not sent"  # its one shot is cached
    path.write_text(path.read_text().replace("at dawn", "at dusk"))
    assert how() == "inline"
