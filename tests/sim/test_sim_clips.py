"""Preview clips: real mp4s of the asked duration, size, rate and audio, rendered once."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from PIL import Image

from rdpipe.sim import SimServer
from rdpipe.sim.catalog import frame_size
from tests.sim.simclient import submit, wait_final


def _download(api: httpx.Client, task_id: str, path: Path) -> Path:
    wait_final(api, task_id)
    path.write_bytes(api.get(f"/v1/videos/{task_id}/content").content)
    return path


def _probe(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert container.duration is not None
        return {
            "duration": container.duration / av.time_base,
            "size": (video.width, video.height),
            "fps": video.average_rate,
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "audio": len(container.streams.audio),
        }


def _frame(path: Path, index: int) -> Image.Image:
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number == index:
                image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]
                return image
    raise AssertionError(f"no frame {index}")


@pytest.mark.parametrize(
    ("model", "metadata", "size", "audio"),
    [
        ("doubao-seedance-2-0-480p", {}, (864, 480), 0),
        ("doubao-seedance-2-0-480p", {"generate_audio": True, "ratio": "9:16"}, (480, 864), 1),
        ("seedance-1-5-pro-with-audio", {"resolution": "480p", "ratio": "1:1"}, (640, 640), 1),
        ("seedance-1-5-pro-no-audio", {"resolution": "480p", "ratio": "21:9"}, (1120, 480), 0),
    ],
)
def test_clip_matches_the_request(
    api: httpx.Client,
    tmp_path: Path,
    model: str,
    metadata: dict[str, Any],
    size: tuple[int, int],
    audio: int,
) -> None:
    """The clip is H.264 yuv420p at 24 fps, of the asked size, length and audio presence."""
    task_id = submit(api, model=model, seconds="4", metadata=metadata)
    probe = _probe(_download(api, task_id, tmp_path / "clip.mp4"))
    assert abs(probe["duration"] - 4) <= 1 / 24
    assert (probe["size"], probe["fps"], probe["audio"]) == (size, 24, audio)
    assert (probe["codec"], probe["pix_fmt"]) == ("h264", "yuv420p")


def test_something_moves(api: httpx.Client, tmp_path: Path) -> None:
    """The first and last frames differ, so a viewer sees the clip play."""
    path = _download(api, submit(api), tmp_path / "clip.mp4")
    first, last = _frame(path, 0), _frame(path, 95)
    assert first.tobytes() != last.tobytes()


def test_reference_image_is_shown(api: httpx.Client, tmp_path: Path) -> None:
    """A data-URL reference image appears in the preview (its pure green shows up)."""
    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), (0, 255, 0)).save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    content = [{"type": "image_url", "image_url": {"url": url}, "role": "reference_image"}]
    path = _download(api, submit(api, metadata={"content": content}), tmp_path / "ref.mp4")
    frame = _frame(path, 0).convert("RGB")
    red, green, blue = (band.point(lambda v: 255 if v > 200 else 0) for band in frame.split())
    pure_green = sum(
        1
        for r, g, b in zip(red.tobytes(), green.tobytes(), blue.tobytes(), strict=True)
        if g and not r and not b
    )
    assert pure_green > 10_000


def test_identical_requests_render_once(api: httpx.Client, sim: SimServer) -> None:
    """Two identical submits share one render; a different prompt renders again."""
    before = sim.renders()
    prompt = f"cache probe {time.time_ns()}"
    first, second = submit(api, prompt=prompt), submit(api, prompt=prompt)
    wait_final(api, first)
    wait_final(api, second)
    assert sim.renders() == before + 1
    wait_final(api, submit(api, prompt=prompt + " again"))
    assert sim.renders() == before + 2


def test_720p_five_second_render(api: httpx.Client, tmp_path: Path, record_property: Any) -> None:
    """A 5 s 720p clip with audio renders at 1280x720 with an audio track; its time is recorded."""
    body_prompt = f"timing probe {time.time_ns()}"
    started = time.perf_counter()
    task_id = submit(
        api,
        model="doubao-seedance-2-0-720p",
        seconds="5",
        prompt=body_prompt,
        metadata={"generate_audio": True},
    )
    probe = _probe(_download(api, task_id, tmp_path / "720p.mp4"))
    record_property("submit_to_downloaded_seconds", round(time.perf_counter() - started, 3))
    assert probe["size"] == frame_size("720p", "16:9") == (1280, 720)
    assert abs(probe["duration"] - 5) <= 1 / 24
    assert probe["audio"] == 1
