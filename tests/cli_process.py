"""rdpipe as a real process, for what only a process has: its own streams, descriptors, signals.

``python -m rdpipe`` runs the same entry point as the console script (:mod:`rdpipe.entry`).
The environment is the test's own minus any RelayDance settings, with the crash-log fallback
folder (``XDG_CACHE_HOME``) inside the test's temporary folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PIPELINE = """version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {seconds: 4, ratio: '16:9'}
shots:
  - {id: a, prompt: a red kite}
  - {id: b, prompt: a blue boat}
output: {path: out/film.mp4}
"""


def environment(cache: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment without RELAYDANCE_*, crash logs falling back under ``cache``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDANCE_")}
    env["XDG_CACHE_HOME"] = str(cache)
    env.update(extra or {})
    return env


def rdpipe_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "rdpipe", *args]


def run_rdpipe(
    *args: str, cwd: Path, env: Mapping[str, str], timeout: float = 90, **popen: Any
) -> subprocess.CompletedProcess[str]:
    """Run rdpipe to its end; stdout and stderr are captured unless ``popen`` says otherwise."""
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(
        rdpipe_command(*args), cwd=cwd, env=dict(env), text=True, timeout=timeout, **popen
    )


def write_pipeline(folder: Path, text: str = PIPELINE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "film.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def files_holding(folder: Path, secret: str) -> list[Path]:
    """Every file under ``folder`` whose bytes contain ``secret``."""
    needle = secret.encode()
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]
