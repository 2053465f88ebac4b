"""Remake docs/screenshots/review-{desktop,phone}.png from the example pipeline, offline.

``python -m tests.review.docs_screenshots`` copies pipelines/lighthouse into a temporary folder
laid out like the repository (so the page's commands read ``pipelines/lighthouse/...``), gives
the copy's coast two takes and its beam shot a 9:16 ratio (the example itself is unchanged),
runs it with ``rdpipe run --offline``, writes the review page with ``rdpipe review --offline``
from the copy's root, and photographs it in headless Chromium at 1280x900 and 390x844.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.review.browser import start_chromium

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "pipelines" / "lighthouse" / "lighthouse.yaml"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def varied_copy(root: Path) -> Path:
    """The example under ``root/pipelines/lighthouse``, coast with 2 takes, beam in 9:16."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("    seconds: 5\n    caption: The coast", "    seconds: 5\n    takes: 2\n"
                        "    caption: The coast", 1)  # fmt: skip
    text = text.replace(
        "    generate_audio: false\n", '    generate_audio: false\n    ratio: "9:16"\n', 1
    )
    target = root / "pipelines" / "lighthouse" / "lighthouse.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(text, encoding="utf-8")
    return target


def rdpipe(root: Path, *args: str) -> None:
    """Run the rdpipe of this venv in ``root``, failing loudly."""
    command = [str(Path(sys.executable).with_name("rdpipe")), *args]
    subprocess.run(command, cwd=root, check=True, env={**os.environ, "NO_COLOR": "1"})


def whole_page(driver: Any) -> bytes:
    """A PNG of the whole page at the window's width (Chromium's DevTools capture)."""
    size = driver.execute_script(
        "return [window.innerWidth, document.documentElement.scrollHeight]"
    )
    clip = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    return base64.b64decode(shot["data"])


def main() -> None:
    out = REPO / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        pipeline = varied_copy(root).relative_to(root)
        rdpipe(root, "run", str(pipeline), "--offline")
        rdpipe(root, "review", str(pipeline), "--offline", "--no-open")
        page = root / "pipelines" / "lighthouse" / "out" / "offline" / "review.html"
        driver = start_chromium(root / "profile")
        try:
            for name, (width, height) in SIZES.items():
                driver.set_window_size(width, height)
                driver.get(page.as_uri())
                time.sleep(1.5)  # posters and fonts
                (out / f"review-{name}.png").write_bytes(whole_page(driver))
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
