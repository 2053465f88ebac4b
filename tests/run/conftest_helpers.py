"""Helpers for the crash and fault tests: `rdpipe run` as a real process against the simulator.

Each pipeline sets a per-shot ``callback_url`` (``<sim>/hook/<pipeline>/<shot>``). The simulator
starts a task's work at submit when it has a webhook (as the real relay does; without one it
waits for the first poll), and its delivery, recorded by :meth:`SimServer.callbacks`, carries
the relay task id: that is how the tests learn which shot every *created* (paid) task was for,
including tasks whose submit answer the client never saw.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import av

from rdpipe.sim import SimServer

SIM_API_KEY = "sk-test"
SUBMIT_KEY = "POST /v1/video/generations"
SECONDS = 4


def write_pipeline(
    folder: Path, name: str, prompts: dict[str, str], sim: SimServer, *, retries: int = 1
) -> Path:
    """A 480p pipeline of 4 s shots ``{id: prompt}``, all in flight at once, with webhooks."""
    hook = f"{sim.base_url}/hook/{name}/{{{{ shot.id }}}}"
    lines = [
        "version: 1",
        f"name: {name}",
        "model: doubao-seedance-2-0-480p",
        f"defaults: {{seconds: {SECONDS}, ratio: '16:9', retries: {retries}, "
        f"callback_url: '{hook}'}}",
        f"concurrency: {{tasks: {len(prompts)}, downloads: 4}}",
        "shots:",
        *(f"  - {{id: {shot}, prompt: {json.dumps(text)}}}" for shot, text in prompts.items()),
        f"output: {{path: out/{name}.mp4}}",
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class RunProcess:
    """A running ``rdpipe run --json``; its output is read by threads as it comes."""

    process: subprocess.Popen[str]
    started: float
    lines: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    _readers: list[threading.Thread] = field(default_factory=list)

    def events(self) -> list[dict[str, Any]]:
        """The JSON objects printed so far (shot events, then the summary)."""
        return [json.loads(line) for line in list(self.lines) if line.startswith("{")]

    def statuses(self) -> set[str]:
        """Every shot status this run has reported so far."""
        return {event["status"] for event in self.events() if event.get("kind") == "run.event"}

    def wait(self, timeout: float) -> int:
        """Wait for the exit code; also waits for the output to be read whole."""
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def kill(self) -> bool:
        """SIGKILL the run; return whether it was still running when the signal went."""
        if self.process.poll() is not None:
            return False
        self.process.kill()
        self.wait(timeout=30)
        return self.process.returncode == -9

    @property
    def error_text(self) -> str:
        return "".join(self.stderr)


def start_run(pipeline: Path, sim: SimServer, *options: str) -> RunProcess:
    """Start ``python -m rdpipe run PIPELINE --json OPTIONS`` pointed at the simulator."""
    env = {
        **os.environ,
        "RELAYDANCE_BASE_URL": sim.base_url,
        "RELAYDANCE_API_KEY": SIM_API_KEY,
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    argv = [sys.executable, "-m", "rdpipe", "run", str(pipeline), "--json", "--poll-interval",
            "0.5", *options]  # fmt: skip
    process = subprocess.Popen(
        argv,
        cwd=pipeline.parent,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    run = RunProcess(process, time.monotonic())
    assert process.stdout is not None and process.stderr is not None
    for stream, sink in ((process.stdout, run.lines), (process.stderr, run.stderr)):
        reader = threading.Thread(target=_drain, args=(stream, sink), daemon=True)
        reader.start()
        run._readers.append(reader)
    return run


def start_offline_run(pipeline: Path, *options: str, ffmpeg: Path | None = None) -> RunProcess:
    """Start ``python -m rdpipe run PIPELINE --offline --json OPTIONS`` in its own session.

    ``ffmpeg`` replaces the ffmpeg that rdpipe and its simulator run (``RDPIPE_FFMPEG``).
    """
    env = {} if ffmpeg is None else {"RDPIPE_FFMPEG": str(ffmpeg)}
    return spawn_run(pipeline, "--offline", *options, env=env)


def spawn_run(pipeline: Path, *options: str, env: dict[str, str]) -> RunProcess:
    """Start ``python -m rdpipe run PIPELINE --json OPTIONS``, ``env`` added, in its own session.

    Its own session (process group) lets a test press Ctrl-C the way a terminal does, to rdpipe
    and its ffmpeg children at once (:func:`press_ctrl_c`).
    """
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **env}
    argv = [sys.executable, "-m", "rdpipe", "run", str(pipeline), "--json", *options]
    process = subprocess.Popen(
        argv, cwd=pipeline.parent, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, encoding="utf-8", start_new_session=True,
    )  # fmt: skip
    run = RunProcess(process, time.monotonic())
    assert process.stdout is not None and process.stderr is not None
    for stream, sink in ((process.stdout, run.lines), (process.stderr, run.stderr)):
        reader = threading.Thread(target=_drain, args=(stream, sink), daemon=True)
        reader.start()
        run._readers.append(reader)
    return run


def press_ctrl_c(run: RunProcess) -> None:
    """SIGINT to the run's whole process group, as a terminal's Ctrl-C sends it."""
    os.killpg(run.process.pid, signal.SIGINT)


def wait_for_status(run: RunProcess, status: str, timeout: float = 60) -> None:
    """Wait until the run has reported ``status`` for some shot."""
    deadline = time.monotonic() + timeout
    while status not in run.statuses():
        assert run.process.poll() is None, f"the run ended before {status}: {run.error_text}"
        assert time.monotonic() < deadline, f"no shot reached {status}: {run.error_text}"
        time.sleep(0.02)


def slow_ffmpeg(folder: Path, seconds: float) -> Path:
    """An ffmpeg that waits ``seconds`` before each run: holds a render or an assembly open.
    Each run first touches ``folder/ffmpeg-started`` (:func:`ffmpeg_started`)."""
    from rdpipe.ffmpeg_path import find_ffmpeg

    script = folder / "slow-ffmpeg"
    started = ffmpeg_started(folder)
    script.write_text(
        f'#!/bin/sh\ntouch "{started}"\nsleep {seconds}\nexec "{find_ffmpeg({})}" "$@"\n'
    )
    script.chmod(0o755)
    return script


def ffmpeg_started(folder: Path) -> Path:
    """The file :func:`slow_ffmpeg` of ``folder`` touches when rdpipe first runs it."""
    return folder / "ffmpeg-started"


def _drain(stream: Any, sink: list[str]) -> None:
    for line in stream:
        sink.append(line)
    stream.close()


@dataclass(frozen=True)
class Finished:
    """A run that ended on its own: exit code, summary object, shot events, console text."""

    code: int
    summary: dict[str, Any] | None
    events: list[dict[str, Any]]
    stderr: str

    def shots(self) -> dict[str, dict[str, Any]]:
        assert self.summary is not None, self.stderr
        return {shot["id"]: shot for shot in self.summary["shots"]}

    def status_of(self) -> dict[str, str]:
        return {shot: entry["status"] for shot, entry in self.shots().items()}


def run_to_end(pipeline: Path, sim: SimServer, *options: str, timeout: float = 100) -> Finished:
    """Run rdpipe to its end and collect what it printed."""
    run = start_run(pipeline, sim, *options)
    code = run.wait(timeout=timeout)
    events = run.events()
    summaries = [event for event in events if event.get("kind") == "run.summary"]
    summary = summaries[-1] if summaries else None
    shot_events = [event for event in events if event.get("kind") == "run.event"]
    return Finished(code, summary, shot_events, run.error_text)


def created_by_shot(sim: SimServer, pipeline: str, *, timeout: float = 30) -> dict[str, list[str]]:
    """Every task the simulator created for ``pipeline``, by shot id, in creation order.

    Waits until every created task has delivered its webhook (it does so once it finishes).
    """
    deadline = time.monotonic() + timeout
    while True:
        created = sim.created_task_ids()
        shot_of: dict[str, tuple[str, str]] = {}
        for delivery in sim.callbacks():
            parts = urlsplit(delivery.url).path.strip("/").split("/")
            shot_of[str(delivery.body["task_id"])] = (parts[-2], parts[-1])
        missing = [task for task in created if task not in shot_of]
        if not missing:
            break
        assert time.monotonic() < deadline, f"no webhook from tasks {missing}"
        time.sleep(0.1)
    result: dict[str, list[str]] = {}
    for task in created:
        name, shot = shot_of[task]
        if name == pipeline:
            result.setdefault(shot, []).append(task)
    return result


def posts_by_shot(sim: SimServer, prompts: dict[str, str]) -> Counter[str]:
    """Submits the simulator received (created or not), by shot, matched on the prompt."""
    shot_of = {text: shot for shot, text in prompts.items()}
    counts: Counter[str] = Counter()
    for request in sim.requests():
        if request.endpoint == SUBMIT_KEY and request.body:
            prompt = json.loads(request.body).get("prompt")
            if prompt in shot_of:
                counts[shot_of[prompt]] += 1
    return counts


@dataclass(frozen=True)
class Probe:
    """What decoding a whole video file found."""

    duration: float  # the container's duration, seconds
    frames: int  # video frames decoded
    end: float  # presentation time of the end of the last decoded frame, seconds


def probe_video(path: Path) -> Probe:
    """Decode every video frame of ``path``; raises if it is not a whole, readable video."""
    with av.open(str(path)) as container:
        assert container.duration is not None, f"{path}: no duration"
        stream = container.streams.video[0]
        frames, end = 0, 0.0
        for frame in container.decode(stream):
            frames += 1
            assert frame.time is not None
            rate = float(stream.average_rate or 24)
            end = max(end, frame.time + 1 / rate)
        return Probe(container.duration / 1_000_000, frames, end)


def assert_whole_clip(path: Path, seconds: float = SECONDS) -> None:
    """The clip decodes to its last frame and lasts ``seconds`` (within 0.15 s)."""
    probe = probe_video(path)
    assert abs(probe.duration - seconds) < 0.15, f"{path}: lasts {probe.duration} s"
    assert abs(probe.end - seconds) < 0.15, f"{path}: frames end at {probe.end} s"


def clip_files(output_dir: Path) -> list[Path]:
    """The clips a user sees under ``<output>/clips`` (hidden in-progress files excluded)."""
    return sorted(
        path for path in (output_dir / "clips").glob("*/*.mp4") if not path.name.startswith(".")
    )
