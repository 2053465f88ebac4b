"""A pipeline with a finished (or running) run on disk: YAML, manifest v2, clips, a reference.

Clips are real 1-second H.264 files made once per session with the bundled ffmpeg and copied.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from rdpipe.ffmpeg_path import find_ffmpeg
from rdpipe.sim.picture import PictureSpec
from rdpipe.sim.preview_clips import ClipSpec, render_clip

PIPELINE_YAML = """\
# A storyboard with takes: the review page shows them side by side.
version: 1
name: lighthouse
model: doubao-seedance-2-0-480p
defaults:
  seconds: 4
  takes: 2          # every shot twice unless it says otherwise
references:
  keeper: {image: refs/keeper.png}
  surf:   {audio: "https://example.com/surf.mp3"}
shots:
  - id: coast
    prompt: "Aerial shot of a <b>storm</b> & coast at dusk"   # user text, with markup
    takes: 3
    caption: The coast, at dusk.
  - {id: stairs, prompt: 'Climbs the stairs', references: [keeper, surf], seeds: [7, 8]}
  - id: lamp  # the lamp
    prompt: >-
      Close-up: the lamp is lit.
    pick: 1
output:
  path: out/lighthouse.mp4
"""

SENSITIVE = (
    "generation failed: The output video may contain sensitive content "
    "(OutputVideoSensitiveContentDetected) <script>alert(1)</script>"
)


@dataclass(frozen=True)
class RunTree:
    """Where the pieces are."""

    root: Path
    pipeline: Path
    output_dir: Path

    @property
    def manifest(self) -> Path:
        return self.output_dir / "manifest.json"


def make_clip(path: Path) -> None:
    """A 1-second 320x180 H.264 test pattern."""
    argv = [find_ffmpeg(os.environ), "-v", "error", "-y", "-f", "lavfi",
            "-i", "testsrc=size=320x180:rate=24", "-t", "1", "-pix_fmt", "yuv420p",
            "-c:v", "libx264", "-movflags", "+faststart", str(path)]  # fmt: skip
    subprocess.run(argv, check=True, timeout=60)


def make_sim_clip(path: Path, width: int, height: int, prompt: str) -> None:
    """A 1-second clip as the offline simulator renders it: the prompt on a coloured picture."""
    picture = PictureSpec(width, height, prompt, f"{width}x{height}", None, None)
    render_clip(find_ffmpeg(os.environ), ClipSpec(picture, 1, False), path)


def _take(take: int, status: str, clip: str | None, **extra: Any) -> dict[str, Any]:
    done = clip is not None
    return {
        "take": take,
        "key": f"{take:064x}",
        "status": status,
        "task_id": f"task_{take:04d}" if status != "waiting" else None,
        "clip": clip,
        "seed": 100 + take if done else None,
        "duration": 1.0 if done else None,
        "message": None,
        **extra,
    }


def manifest_document(pipeline: Path, *, running: bool = False) -> dict[str, Any]:
    """The manifest of a run: coast 3 takes (one failed), stairs 2 (one generating), lamp 2."""
    reference = {"name": "keeper", "kind": "image", "source": "refs/keeper.png",
                 "path": str(pipeline.parent / "refs" / "keeper.png")}  # fmt: skip
    surf = {"name": "surf", "kind": "audio", "source": "https://example.com/surf.mp3", "path": None}

    def shot(index: int, shot_id: str, prompt: str, takes: list[dict[str, Any]]) -> dict[str, Any]:
        return {"id": shot_id, "index": index, "prompt": prompt,
                "model": "doubao-seedance-2-0-480p", "seconds": 4,
                "settings": {"ratio": "16:9", "generate_audio": True},
                "references": [reference, surf] if shot_id == "stairs" else [],
                "first_frame": None, "last_frame": None,
                "caption": "The coast, at dusk." if shot_id == "coast" else None,
                "picked": 1, "takes": takes}  # fmt: skip

    return {
        "pipeline": "lighthouse",
        "version": 2,
        "pipeline_file": str(pipeline),
        "video": "lighthouse.mp4",
        "contact_sheet": "lighthouse.contact.png",
        "updated_at": 1780000000.0,
        "running": running,
        "shots": [
            shot(0, "coast", "Aerial shot of a <b>storm</b> & coast at dusk", [
                _take(1, "done", "clips/coast/1-aaaa.mp4"),
                _take(2, "failed", None, message=SENSITIVE),
                _take(3, "cached", "clips/coast/3-cccc.mp4"),
            ]),
            shot(1, "stairs", "@image1 climbs the stairs", [
                _take(1, "done", "clips/stairs/1-dddd.mp4"),
                _take(2, "generating", None),
            ]),
            shot(2, "lamp", "Close-up: the lamp is lit.", [
                _take(1, "done", "clips/lamp/1-eeee.mp4"),
                _take(2, "done", "clips/lamp/2-ffff.mp4"),
            ]),
        ],
    }  # fmt: skip


def write_manifest(tree: RunTree, document: dict[str, Any]) -> None:
    """Replace the manifest atomically, as a run does."""
    temporary = tree.manifest.with_name(".manifest.json.tmp")
    temporary.write_text(json.dumps(document, indent=2), encoding="utf-8")
    os.replace(temporary, tree.manifest)


def build_tree(root: Path, clip: Path, *, offline: bool = False) -> RunTree:
    """Write the pipeline, its reference image, and a finished run's outputs under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    pipeline = root / "lighthouse.yaml"
    pipeline.write_text(PIPELINE_YAML, encoding="utf-8")
    (root / "refs").mkdir()
    Image.new("RGB", (640, 360), (200, 120, 40)).save(root / "refs" / "keeper.png")
    output_dir = root / "out" / "offline" if offline else root / "out"
    tree = RunTree(root, pipeline, output_dir)
    document = manifest_document(pipeline)
    output_dir.mkdir(parents=True)
    for shot in document["shots"]:
        for take in shot["takes"]:
            if take["clip"]:
                target = output_dir / take["clip"]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(clip, target)
    shutil.copyfile(clip, output_dir / "lighthouse.mp4")
    Image.new("RGB", (400, 100), (20, 20, 20)).save(output_dir / "lighthouse.contact.png")
    write_manifest(tree, document)
    return tree
