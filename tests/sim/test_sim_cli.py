"""``rdpipe sim serve``: its help, its banner, and refusal of bad fault options."""

from __future__ import annotations

import io

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.cli.sim_commands import serve_simulator
from rdpipe.sim import SimConfig


def test_serve_help_lists_fault_flags() -> None:
    """``rdpipe sim serve --help`` documents the ports, the pace and the fault flags."""
    result = CliRunner().invoke(app, ["sim", "serve", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for flag in ("--port", "--storage-port", "--api-key", "--realistic", "--error-rate",
                 "--rate-limit-burst", "--retry-after", "--drop-rate", "--truncate-rate",
                 "--delay", "--expired-urls", "--failure-rate", "--fault-endpoint"):  # fmt: skip
        assert flag in result.output


def test_bad_fault_option_exits_2() -> None:
    """A fault rate above 1 is a usage error (exit 2) naming the problem."""
    result = CliRunner().invoke(app, ["sim", "serve", "--port", "0", "--drop-rate", "2"])
    assert result.exit_code == 2
    assert "drop_rate must be between 0 and 1" in result.output


def test_banner_tells_how_to_point_rdpipe_at_the_simulator() -> None:
    """The banner gives the API and storage URLs and the two environment variables to set."""
    output = io.StringIO()
    console = Console(file=output, width=200)
    seen: list[int] = []

    def wait() -> None:
        seen.append(httpx.get(base_url() + "/v1/models").status_code)

    def base_url() -> str:
        line = next(x for x in output.getvalue().splitlines() if "RELAYDANCE_BASE_URL" in x)
        return line.split("=", 1)[1]

    serve_simulator(SimConfig(api_key=None), console, wait)
    text = output.getvalue()
    assert "export RELAYDANCE_API_KEY=sk-anything" in text
    assert "storage  http://127.0.0.1:" in text
    assert "(any API key is accepted)" in text
    assert seen == [401]
    assert text.rstrip().endswith("simulator stopped")


def test_media_host_flags_set_the_simulators_media_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """--refuse-uploads, --asset-delay and --fail-portrait reach the simulator's MediaRules
    (extensions as lower case without a dot); a bad md5 is a usage error."""
    from rdpipe.cli import sim_commands
    from rdpipe.sim import MediaRules

    served: list[SimConfig] = []
    monkeypatch.setattr(sim_commands, "serve_simulator", lambda config, *_: served.append(config))
    md5 = "0123456789abcdef0123456789ABCDEF"
    args = ["sim", "serve", "--port", "0", "--refuse-uploads", ".MP4", "--refuse-uploads", "wav",
            "--asset-delay", "5", "--fail-portrait", md5]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (config,) = served
    assert config.media == MediaRules(
        refused_extensions=frozenset({"mp4", "wav"}),
        asset_delay=5.0,
        failing_portraits=frozenset({md5.lower()}),
    )
    bad = CliRunner().invoke(app, ["sim", "serve", "--port", "0", "--fail-portrait", "nope"])
    assert bad.exit_code == 2
    assert "bad media host option" in bad.output
