"""Webhooks: `run --listen` wakes shots as callbacks arrive; forged deliveries are refused."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx
from click.testing import Result
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.scheduler import Waker
from rdpipe.session.webhooks import MAX_BODY, WebhookReceiver
from rdpipe.sim import Faults, SimServer
from tests.run.conftest import pipeline_text, submits, summary_of, write


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_listening(path: Path, *extra: str) -> tuple[Result, float, str]:
    port = free_port()
    listen = f"127.0.0.1:{port}"
    started = time.monotonic()
    result = CliRunner().invoke(
        app,
        ["run", str(path), "--json", "--listen", listen, "--poll-interval", "20", *extra],
        catch_exceptions=False,
    )
    return result, time.monotonic() - started, listen


def polls(sim: SimServer) -> int:
    counters = sim.counters()
    return counters.get("GET /v1/video/generations/{id}", 0) + counters.get(
        "GET /v1/videos/{id}", 0
    )


def test_callbacks_wake_shots_long_before_the_next_poll(online: SimServer, tmp_path: Path) -> None:
    """With polls 20 s apart, callbacks finish a 3-shot run in seconds with one poll per task."""
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one", "b": "two", "c": "three"}))
    result, elapsed, _ = run_listening(path)
    assert result.exit_code == 0, result.stderr
    assert elapsed < 15, f"took {elapsed:.1f} s: callbacks did not wake the shots"
    assert submits(online) == 3
    assert polls(online) == 3, "each shot confirms its callback with exactly one GET"
    assert len(online.callbacks()) == 3


def test_duplicate_deliveries_are_ignored(online: SimServer, tmp_path: Path) -> None:
    """Each callback delivered twice still gives one submit and one clip per shot."""
    online.faults = Faults(callback_deliveries=2)
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one", "b": "two"}))
    result, _, _ = run_listening(path)
    assert result.exit_code == 0, result.stderr
    assert submits(online) == 2
    assert len(online.callbacks()) == 4
    assert [s["status"] for s in summary_of(result)["shots"]] == ["done", "done"]


def test_callback_secret_stays_out_of_files(online: SimServer, tmp_path: Path) -> None:
    """The per-run callback URL reaches the API but no manifest, lock file or state file."""
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    result, _, listen = run_listening(path)
    assert result.exit_code == 0, result.stderr
    sent = [r for r in online.requests() if r.method == "POST" and r.origin == "api"]
    assert listen.encode() + b"/hook/" in sent[0].body
    secret_path = sent[0].body.split(b"/hook/")[1].split(b"/")[0]
    files = [tmp_path / "film.rdpipe.lock", tmp_path / "out" / "manifest.json"]
    files += list((tmp_path / ".rdpipe").glob("state.db*"))
    for file in files:
        assert secret_path not in file.read_bytes(), file
    # Adding --listen does not change what a shot is: the rerun reuses the clip.
    online.clear_observations()
    again, _, _ = run_listening(path)
    assert again.exit_code == 0 and submits(online) == 0


def test_the_runs_webhook_is_sent_over_the_files_callback(
    online: SimServer, tmp_path: Path
) -> None:
    """With callback_url in the file and --listen, the POST carries the run's webhook (which
    wakes the shot); the journal and the manifest keep the file's, and the key is unchanged."""
    written = "https://hooks.example.com/cb"
    text = pipeline_text({"a": "one"}).replace("'16:9'}", f"'16:9', callback_url: '{written}'}}")
    path = write(tmp_path / "film.yaml", text)
    result, elapsed, listen = run_listening(path)
    assert result.exit_code == 0, result.stderr
    assert elapsed < 15, f"took {elapsed:.1f} s: the webhook did not wake the shot"
    (sent,) = [r for r in online.requests() if r.method == "POST" and r.origin == "api"]
    assert json.loads(sent.body)["metadata"]["callback_url"].startswith(f"http://{listen}/hook/")
    with sqlite3.connect(tmp_path / ".rdpipe" / "state.db") as journal:
        (kept,) = journal.execute("SELECT request_json FROM intents").fetchone()
    assert json.loads(kept)["metadata"]["callback_url"] == written
    online.clear_observations()
    again, _, _ = run_listening(path)
    assert again.exit_code == 0 and submits(online) == 0


def test_receiver_refuses_forged_and_oversized_deliveries() -> None:
    """Wrong secret: 404; body over the limit: 413; unknown shot: 200 ignored; known: woken."""
    waker = Waker()
    receiver = WebhookReceiver(waker, {"a", "b#2"}, secret="right")

    async def scenario() -> list[int]:
        with anyio.fail_after(10):
            return await deliveries()

    async def deliveries() -> list[int]:
        transport = httpx.ASGITransport(app=receiver.app())  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://hooks") as client:
            codes = [
                (await client.post("/hook/wrong/a", json={"status": "succeeded"})).status_code,
                (await client.post("/hook/right/a", content=b"x" * (MAX_BODY + 1))).status_code,
                (await client.post("/hook/right/zzz", json={})).status_code,
                (await client.post("/hook/right/a", json={})).status_code,  # nobody sleeping
            ]
            async with anyio.create_task_group() as group:
                group.start_soon(waker.sleep, "b#2", 60.0)
                await anyio.sleep(0.01)
                codes.append((await client.post("/hook/right/b%232", json={})).status_code)
            return codes

    codes = anyio.run(scenario)
    assert codes == [404, 413, 200, 200, 200]
    assert receiver.deliveries.refused == 2
    assert receiver.deliveries.ignored == 2
    assert receiver.deliveries.labels == ["b#2"]


def test_listen_needs_host_and_port(rdpipe_cli: Callable[..., Result], tmp_path: Path) -> None:
    """A malformed --listen is a usage error, exit 2, before anything is sent."""
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    result = rdpipe_cli("run", str(path), "--offline", "--listen", "nowhere")
    assert result.exit_code == 2
    assert "--listen 'nowhere': expected HOST:PORT" in result.stderr
