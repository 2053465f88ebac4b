"""Text that comes from data (a server's message, a model id, a path) is shown as written.

Rich reads ``[...]`` as markup: a stray ``[/]`` raises ``MarkupError`` and ``[redacted]`` or
``[bold]`` silently vanish. Every table and line the CLI prints shows data literally.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from rich.console import Console

from rdpipe.cli.models_commands import ModelRow, models_table
from rdpipe.sim import Faults, SimServer
from rdpipe.sim import failures as sim_failures
from tests.run.conftest import pipeline_text, write

MESSAGE = "moderation [/] said [bold]no[/bold] [redacted] end"


def _rendered(renderable: object) -> str:
    """What a default (markup on) console prints for ``renderable``, 300 columns wide."""
    out = io.StringIO()
    Console(file=out, width=300, color_system=None).print(renderable)
    return out.getvalue()


def test_status_shows_a_stored_reason_with_brackets_as_written(
    online: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failure reason with ``[/]``, ``[bold]`` and ``[redacted]`` in it: status exits 0 and
    its table says it to the letter (as ``run`` did)."""
    monkeypatch.setitem(sim_failures.FAILURE_MESSAGES, "BracketsCode", MESSAGE)
    monkeypatch.setenv("COLUMNS", "400")  # the reason on one line
    online.faults = Faults(task_failure_rate=1.0, failure_code="BracketsCode")
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    run = rdpipe_cli("run", str(path))
    assert run.exit_code == 1
    assert MESSAGE in run.stdout
    status = rdpipe_cli("status", str(path))
    assert status.exit_code == 0, status.stderr
    assert MESSAGE in status.stdout


def test_plan_shows_model_ids_literally(
    tmp_path: Path, rdpipe_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rdpipe plan``: a model id the catalog does not know, with brackets, is shown as
    written in the totals table (it is a warning, not an error)."""
    monkeypatch.setenv("COLUMNS", "200")
    text = pipeline_text({"a": "one"}).replace("doubao-seedance-2-0-480p", "'[b]m[/b]'")
    path = write(tmp_path / "film.yaml", text)
    plan = rdpipe_cli("plan", str(path))
    assert plan.exit_code == 0, plan.stderr
    (row,) = [line for line in plan.stdout.splitlines() if "[b]" in line and "│" in line]
    assert row.split("│")[1].strip() == "[b]m[/b]"


def test_models_table_shows_server_ids_literally() -> None:
    """A model id from the server with brackets (unknown to the catalog) is listed as sent."""
    shown = _rendered(models_table([ModelRow("odd-[/]-[bold]x[/bold]", True, "x", None)]))
    assert "odd-[/]-[bold]x[/bold]" in shown
