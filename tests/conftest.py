"""Fixtures shared by every test area.

``sim_server`` (session scope)
    One RelayDance simulator for the whole session: fast timing (a task's lifecycle takes
    about 0.3 s plus its render), API key ``"sk-sim-test"``, seed 0, no faults, served from a
    background thread on two free ports of 127.0.0.1 (``sim_server.base_url`` for the API,
    ``sim_server.storage_url`` for clip downloads). Clips render into a session temp dir.

``sim`` (function scope)
    The same server, reset for one test: faults back to none, media rules to the default, and
    observations (counters, logged requests, created task ids, webhook deliveries) cleared
    before the test; faults and media rules are reset again afterwards so a failing test cannot
    leak them. Set ``sim.faults = Faults(...)`` (``sim.media_rules = MediaRules(...)``) inside a
    test to inject faults (refuse extensions, fail portraits). Hosted files and assets stay.

``loop_file_calls`` (function scope)
    The blocking calls made on the test's thread while an event loop runs there (as
    ``anyio.run`` runs it), as ``name(first argument)`` strings: a file made, read, renamed,
    removed or looked at (Path's methods call these), and every SQL statement of the run state.
    An async path that keeps blocking work in worker threads leaves it empty.
"""

from __future__ import annotations

import asyncio
import builtins
import io
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rdpipe.sim import Faults, MediaRules, SimConfig, SimServer, Timing, run_simulator
from rdpipe.state import StateStore

SIM_API_KEY = "sk-sim-test"


def _bytecode_cache_for_children() -> None:
    """Give the rdpipe processes tests start one shared bytecode cache, as an installed package
    has: where the machine sets ``PYTHONDONTWRITEBYTECODE`` (this one and CI's do), each child
    compiled rdpipe's modules again, about 0.3 s a process. The cache is outside the tree."""
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
        prefix = Path(tempfile.gettempdir()) / f"rdpipe-tests-pycache-{os.getuid()}"
        os.environ.setdefault("PYTHONPYCACHEPREFIX", str(prefix))


_bytecode_cache_for_children()


@pytest.fixture(scope="session")
def sim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    """A simulator shared by the whole session (fast timing, key ``sk-sim-test``)."""
    work_dir: Path = tmp_path_factory.mktemp("sim")
    config = SimConfig(api_key=SIM_API_KEY, timing=Timing.fast(), seed=0, work_dir=work_dir)
    with run_simulator(config) as server:
        yield server


@pytest.fixture
def sim(sim_server: SimServer) -> Iterator[SimServer]:
    """The session simulator with no faults and empty counters for this test."""
    sim_server.faults = Faults()
    sim_server.media_rules = MediaRules()
    sim_server.clear_observations()
    yield sim_server
    sim_server.faults = Faults()
    sim_server.media_rules = MediaRules()


# Where a file is made, read, renamed, removed or looked at, and where the state runs its SQL.
_BLOCKING_CALLS = ((os, "stat"), (os, "lstat"), (os, "mkdir"), (os, "unlink"), (os, "rmdir"),
                   (os, "replace"), (os, "rename"), (os, "scandir"), (io, "open"),
                   (builtins, "open"), (shutil, "rmtree"), (tempfile, "mkdtemp"),
                   (StateStore, "_execute"), (StateStore, "_rows"))  # fmt: skip


@pytest.fixture
def loop_file_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Blocking calls made on the test's thread while an event loop runs on it."""
    loop = threading.get_ident()
    seen: list[str] = []

    def _watched(name: str, call: Callable[..., object]) -> Callable[..., object]:
        def _call(*args: object, **kwargs: object) -> object:
            # A descriptor opened as a stream is a subprocess's pipe, not a file; a module
            # imported on first use (anyio imports lazily) is not the code's own file work.
            pipe = bool(args) and isinstance(args[0], int)
            if threading.get_ident() == loop and _loop_running() and not pipe and not _importing():
                shown = args[1] if isinstance(args[0], StateStore) else args[0] if args else ""
                seen.append(f"{name}({shown})")
            return call(*args, **kwargs)

        return _call

    for owner, name in _BLOCKING_CALLS:
        monkeypatch.setattr(owner, name, _watched(name, getattr(owner, name)))
    yield seen


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _importing() -> bool:
    """Whether the caller runs inside an import."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``pytest -n auto``: half as many workers again as cores (3 on 2 cores). Much of the
    suite waits on child processes, servers and ffmpeg rather than computing, so a core per
    worker left them idle: on CI's clean clone with 2 cores the suite took 10 min 34 s with 2
    workers, 8 min 30 s with 3."""
    return max(2, (os.cpu_count() or 1) * 3 // 2)
