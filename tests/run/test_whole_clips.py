"""Only whole clips count (issue 11 §3), through the CLI and the simulator's HTTP path.

A download that ends early with no ``Content-Length``, storage sending something that is not a
video, and a clip cut short on disk after it was recorded are each fetched again from the task
that made it (a fresh link, else ``/v1/videos/{id}/content``), never resubmitted; only clips
found whole reach the lock file, the manifest and the video.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import av
import httpx
import pytest
from click.testing import Result

from rdpipe.ffmpeg_path import find_ffmpeg
from rdpipe.sim import Faults, SimServer, StoredBody
from rdpipe.state import ClipFile, LockFile, StatePaths, StateStore, TakeLock
from tests.run.conftest import SIM_API_KEY, pipeline_text, submits, summary_of, write

CUT = 0.55
BOTH = frozenset({"storage", "content"})
PAID_FOR = "; rerun to try again (it is paid for and recorded)"
TWO_SHOTS = {"a": "a red kite over dunes", "b": "a blue boat at dawn"}
FETCHED_AGAIN = [
    "GET /v1/video/generations/{id}",  # a fresh link
    "GET storage",
    "GET /v1/videos/{id}/content",  # then through the API
]


def _whole(path: Path) -> float:
    """Decode every frame of a clip (any error fails the test); return its seconds of picture."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video))
        assert frames == video.frames > 0
        rate = video.average_rate
        assert rate is not None
    with av.open(str(path)) as container:
        for audio in container.streams.audio[:1]:
            assert sum(1 for _ in container.decode(audio)) >= audio.frames - 1
    return float(frames / rate)


def _duration(path: Path) -> float:
    with av.open(str(path)) as container:
        assert container.duration is not None
        return container.duration / 1_000_000


def _lock(folder: Path) -> dict[str, TakeLock]:
    """The lock file's clip of each shot (first take)."""
    return {shot.shot_id: shot.takes[0] for shot in LockFile(folder / "film.rdpipe.lock").read()}


def _manifest_clips(folder: Path) -> dict[str, str | None]:
    document = json.loads((folder / "out" / "manifest.json").read_text(encoding="utf-8"))
    return {shot["id"]: shot["takes"][0].get("clip") for shot in document["shots"]}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _task_requests(sim: SimServer, task: str) -> list[str]:
    """The counter keys of the requests about ``task`` (its storage path included), in order."""
    answer = httpx.get(
        f"{sim.base_url}/v1/videos/{task}", headers={"Authorization": f"Bearer {SIM_API_KEY}"}
    )
    clip_path = urlsplit(answer.json()["metadata"]["url"]).path
    keys = []
    for request in sim.requests()[:-1]:  # not the GET just made
        if request.path == clip_path or f"/{task}" in request.path:
            keys.append(request.endpoint)
    return keys


def _after_first_download(keys: list[str]) -> list[str]:
    return keys[keys.index("GET storage") + 1 :]


def test_clip_cut_short_without_length_is_fetched_again(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Storage closing after 55% with no length: each clip comes whole through the API, unpaid."""
    online.faults = Faults(stored_body=StoredBody("video/mp4", fraction=CUT))
    path = write(tmp_path / "film.yaml", pipeline_text(TWO_SHOTS))
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 0, result.stdout
    video = tmp_path / "out" / "film.mp4"
    assert (
        result.stdout.splitlines()[-1]
        == f"film: 2 submitted, 0 resumed, 0 reused, 0 failed -> {video}"
    )
    assert submits(online) == 2
    for task in online.created_task_ids():
        assert _after_first_download(_task_requests(online, task)) == FETCHED_AGAIN
    lock = _lock(tmp_path)
    assert _manifest_clips(tmp_path) == {shot: lock[shot].clip for shot in TWO_SHOTS}
    seconds = []
    for take in lock.values():
        clip = tmp_path / "out" / take.clip
        assert take.sha256 == _sha256(clip)
        assert take.duration == pytest.approx(_whole(clip)) == 4.0
        seconds.append(take.duration)
    assert _duration(video) == pytest.approx(sum(seconds), abs=0.05)
    assert not list((tmp_path / "out" / "clips").rglob(".incoming-*"))


def test_clip_that_stays_cut_short_is_reported_with_what_arrived(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Cut short from storage and the API alike: failed, with the bytes; no clip is recorded."""
    online.faults = Faults(stored_body=StoredBody("video/mp4", fraction=CUT, endpoints=BOTH))
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 1
    (task,) = online.created_task_ids()
    online.faults = Faults()
    whole = httpx.get(
        f"{online.base_url}/v1/videos/{task}/content",
        headers={"Authorization": f"Bearer {SIM_API_KEY}"},
    ).content
    sent = int(len(whole) * CUT)
    held = _frames_within(whole, sent, tmp_path / "whole.mp4")
    content = f"/v1/videos/{task}/content"
    message = (
        f"a: failed (unknown): the clip of task {task} is incomplete: "
        f"{urlsplit(online.base_url).netloc}{content} sent {sent} bytes of video/mp4; it holds "
        f"{held} (the file ends "
        f"{len(whole) - sent} bytes before the end of its mdat box); tried its link, a fresh "
        f"link from the task and GET {content}" + PAID_FOR
    )
    assert message in result.stdout.splitlines(), result.stdout
    assert result.stdout.splitlines()[-1] == "film: 1 submitted, 0 resumed, 0 reused, 1 failed"
    assert submits(online) == 1
    assert _lock(tmp_path) == {}
    assert _manifest_clips(tmp_path) == {"a": None}
    assert not list((tmp_path / "out" / "clips").rglob("*.mp4"))


def _frames_within(data: bytes, size: int, scratch: Path) -> str:
    """``24 of its 48 video frames and …``: the packets of ``data`` wholly inside ``size`` bytes."""
    scratch.write_bytes(data)
    parts = []
    with av.open(str(scratch)) as container:
        for stream in (*container.streams.video[:1], *container.streams.audio[:1]):
            entries = stream.index_entries
            inside = sum(entry.pos + entry.size <= size for entry in entries)
            noun = "frames" if stream.type == "video" else "packets"
            parts.append(f"{inside} of its {len(entries)} {stream.type} {noun}")
    return " and ".join(parts)


@pytest.fixture(scope="module")
def moov_last(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 4 s 864x480 clip with sound whose index (moov) comes after its media, as ffmpeg writes."""
    dest = tmp_path_factory.mktemp("moov") / "late.mp4"
    subprocess.run(
        [find_ffmpeg(os.environ), "-v", "error", "-f", "lavfi", "-i",
         "testsrc2=s=864x480:r=24:d=4", "-f", "lavfi", "-i", "sine=r=48000:d=4",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         str(dest)],
        check=True,
    )  # fmt: skip
    return dest.read_bytes()


def test_clip_without_index_at_the_front_cut_short_is_fetched_again(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result], moov_last: bytes
) -> None:
    """An MP4 whose index comes last, cut at 55%, is no clip: the API's whole clip is used."""
    online.faults = Faults(stored_body=StoredBody("video/mp4", moov_last, fraction=CUT))
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 0, result.stdout
    assert submits(online) == 1
    (task,) = online.created_task_ids()
    assert _after_first_download(_task_requests(online, task)) == FETCHED_AGAIN
    take = _lock(tmp_path)["a"]
    assert _whole(tmp_path / "out" / take.clip) == take.duration == 4.0


def test_clip_without_index_that_stays_cut_short_says_the_index_is_missing(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result], moov_last: bytes
) -> None:
    """Cut short everywhere, an MP4 whose index comes last is reported without it, by bytes."""
    body = StoredBody("video/mp4", moov_last, fraction=CUT, endpoints=BOTH)
    online.faults = Faults(stored_body=body)
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 1
    (task,) = online.created_task_ids()
    sent = int(len(moov_last) * CUT)
    mdat_end = moov_last.rindex(b"moov") - 4  # the index box follows the media data
    content = f"/v1/videos/{task}/content"
    (shot,) = summary_of(result)["shots"]
    assert shot["message"] == (
        f"the clip of task {task} is incomplete: {urlsplit(online.base_url).netloc}{content} "
        f"sent {sent} bytes of video/mp4; the file ends {mdat_end - sent} bytes before the end "
        "of its mdat box and the index of its frames (moov box) is missing; tried its link, a "
        f"fresh link from the task and GET {content}" + PAID_FOR
    )
    assert (submits(online), _lock(tmp_path), shot["clip"]) == (1, {}, None)


@pytest.mark.parametrize(
    "stored",
    [
        StoredBody("application/json", b'{"error": "expired"}'),
        StoredBody("text/html", b"<!DOCTYPE html>\n<html><title>502</title></html>\n"),
        StoredBody("video/mp4", b""),
    ],
    ids=["json", "html", "empty"],
)
def test_no_video_from_storage_falls_back_to_the_api(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result], stored: StoredBody
) -> None:
    """JSON, HTML or nothing from storage: a fresh link, then /content brings the paid clip."""
    online.faults = Faults(stored_body=stored)
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines()[-1].startswith(
        "film: 1 submitted, 0 resumed, 0 reused, 0 failed -> "
    )
    (task,) = online.created_task_ids()
    assert _after_first_download(_task_requests(online, task)) == FETCHED_AGAIN
    take = _lock(tmp_path)["a"]
    assert _whole(tmp_path / "out" / take.clip) == take.duration == 4.0


def _cut_on_disk(folder: Path, shot: str) -> tuple[Path, bytes]:
    """Cut a recorded clip to 55% in place, as a full disk would; returns it and its bytes."""
    clip = folder / "out" / _lock(folder)[shot].clip
    whole = clip.read_bytes()
    clip.write_bytes(whole[: int(len(whole) * CUT)])
    return clip, whole


@pytest.mark.parametrize("command", ["run", "assemble"])
def test_clip_cut_short_on_disk_is_fetched_again_from_its_task(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result], command: str
) -> None:
    """A recorded clip cut on disk: the next run or assemble fetches it again (2 GETs, no POST)."""
    path = write(tmp_path / "film.yaml", pipeline_text(TWO_SHOTS))
    assert rdpipe_cli("run", str(path)).exit_code == 0
    lock_text = (tmp_path / "film.rdpipe.lock").read_text(encoding="utf-8")
    clip, whole = _cut_on_disk(tmp_path, "a")
    online.clear_observations()
    result = rdpipe_cli(command, str(path))
    assert result.exit_code == 0, result.stdout
    video = tmp_path / "out" / "film.mp4"
    last = {
        "run": f"film: 0 submitted, 1 resumed, 1 reused, 0 failed -> {video}",
        "assemble": f"film: {video}",
    }
    assert result.stdout.splitlines()[-1] == last[command]
    if command == "assemble":  # it says why it downloads
        task = _lock(tmp_path)["a"].task_id
        relative = clip.relative_to(tmp_path / "out").as_posix()
        assert result.stdout.splitlines()[0] == (
            f"a: task {task} finished; {relative} has {int(len(whole) * CUT)} bytes, expected "
            f"{len(whole)}, downloading it again (no new charge)"
        )
    assert online.counters() == {"GET /v1/video/generations/{id}": 1, "GET storage": 1}
    assert clip.read_bytes() == whole, "the same clip is back in its place"
    assert (tmp_path / "film.rdpipe.lock").read_text(encoding="utf-8") == lock_text
    assert _duration(video) == pytest.approx(2 * _whole(clip), abs=0.05)


def test_offline_clip_cut_short_on_disk_is_reported_as_cut_and_free(
    tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Offline, the simulator that made a clip ended with its run: assemble says the clip on disk
    is cut and that generating it again is free (not "no clip yet", not "billed"), and the next
    offline run generates it again."""
    path = write(tmp_path / "film.yaml", pipeline_text(TWO_SHOTS))
    assert rdpipe_cli("run", str(path), "--offline").exit_code == 0
    clips = tmp_path / "out" / "offline"
    clip = next((clips / "clips" / "a").glob("*.mp4"))
    whole = clip.stat().st_size
    clip.write_bytes(clip.read_bytes()[: int(whole * CUT)])
    result = rdpipe_cli("assemble", str(path), "--offline")
    assert result.exit_code == 1
    relative = clip.relative_to(clips).as_posix()
    error = result.stderr.removeprefix("error: ").splitlines()
    assert error[0] == (
        f"the clip of a is not whole and could not be downloaded again: {relative} has "
        f"{int(whole * CUT)} bytes, expected {whole}"
    )
    assert error[1] == (
        f"Run `rdpipe run {path} --offline` first (free), or `rdpipe assemble {path} --partial "
        "--offline` to leave them out."
    )
    assert "keeps a task only while the offline run that submitted it lasts" in result.stdout
    assert "the next offline run generates the shot again (free)" in result.stdout
    assert "billed" not in result.stdout + result.stderr
    assert rdpipe_cli("run", str(path), "--offline").exit_code == 0
    assert _whole(clips / "film.mp4") > 0


def test_clip_recorded_cut_short_by_an_earlier_rdpipe_is_replaced(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A clip recorded with the hash of a cut file is found incomplete: the whole one replaces it.

    rdpipe before issue 11 §3 accepted a download cut short without a length and recorded it.
    """
    path = write(tmp_path / "film.yaml", pipeline_text(TWO_SHOTS))
    assert rdpipe_cli("run", str(path)).exit_code == 0
    clip, whole = _cut_on_disk(tmp_path, "a")
    take = _lock(tmp_path)["a"]
    paths = StatePaths.for_pipeline(path)
    with StateStore.open(paths.database, pipeline=paths.pipeline, clock=time.time) as store:
        cut = ClipFile(take.clip, clip.stat().st_size, _sha256(clip))
        store.record_clip(take.task_id, cut, duration=take.duration)
    online.clear_observations()
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines()[-1].startswith(
        "film: 0 submitted, 1 resumed, 1 reused, 0 failed -> "
    )
    assert online.counters() == {"GET /v1/video/generations/{id}": 1, "GET storage": 1}
    fetched = _lock(tmp_path)["a"]
    assert (fetched.task_id, fetched.sha256) == (take.task_id, hashlib.sha256(whole).hexdigest())
    assert fetched.clip == take.clip.replace(".mp4", "-2.mp4"), "the cut file is not overwritten"
    assert _manifest_clips(tmp_path)["a"] == fetched.clip
    second = tmp_path / "out" / _lock(tmp_path)["b"].clip
    video = tmp_path / "out" / "film.mp4"
    assert _duration(video) == pytest.approx(
        _whole(tmp_path / "out" / fetched.clip) + _whole(second), abs=0.05
    )
