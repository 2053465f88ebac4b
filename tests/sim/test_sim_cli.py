"""``rdpipe sim serve``: its help, its banner, its options, and refusal of bad ones."""

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
                 "--delay", "--expired-urls", "--failure-rate", "--fault-endpoint",
                 "--failure-code", "--fail-marker", "--failures-per-marker", "--balance",
                 "--balance-error", "--display-currency", "--pricing-version",
                 "--concurrency-limit", "--gate-hold", "--gate-unavailable-rate"):  # fmt: skip
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


def test_account_and_failure_flags_reach_the_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """--balance, --balance-error, --display-currency, --pricing-version, --concurrency-limit,
    --gate-hold, --gate-unavailable-rate, --failure-code, --fail-marker and
    --failures-per-marker reach the SimConfig; the defaults change nothing."""
    from rdpipe.cli import sim_commands

    served: list[SimConfig] = []
    monkeypatch.setattr(sim_commands, "serve_simulator", lambda config, *_: served.append(config))
    args = ["sim", "serve", "--port", "0", "--balance", "2.5", "--balance-error",
            "--display-currency", "cny", "--pricing-version", "v7", "--concurrency-limit", "4",
            "--gate-hold", "0.2", "--gate-unavailable-rate", "0.1", "--failure-code", "expired",
            "--fail-marker", "[a]=output_audio",
            "--fail-marker", "x=y=InputTextSensitiveContentDetected",
            "--failures-per-marker", "1"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(app, ["sim", "serve", "--port", "0"]).exit_code == 0
    config, default = served
    assert (config.balance_usd, config.balance_error, config.display_currency) == (2.5, True, "CNY")
    assert (config.pricing_version, config.concurrency_limit) == ("v7", 4)
    assert (config.gate_hold, config.gate_unavailable_rate) == (0.2, 0.1)
    assert config.faults.failure_code == "expired"
    assert config.faults.failure_markers == {
        "[a]": "output_audio", "x=y": "InputTextSensitiveContentDetected",
    }  # fmt: skip
    assert config.faults.failures_per_marker == 1
    defaults = SimConfig()
    assert (default.balance_usd, default.balance_error, default.concurrency_limit) == (
        None, False, None,
    )  # fmt: skip
    assert (default.display_currency, default.pricing_version) == ("USD", defaults.pricing_version)
    assert default.faults.failure_markers == {}
    assert default.faults.failure_code == "output_video"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--display-currency", "EUR"], "bad account option: display_currency must be one of"),
        (["--concurrency-limit", "0"], "concurrency_limit must be at least 1"),
        (["--balance", "-1"], "balance_usd must not be negative"),
        (["--fail-marker", "no-class"], "--fail-marker wants TEXT=CLASS, not 'no-class'"),
    ],
)
def test_bad_account_and_failure_options_exit_2(args: list[str], said: str) -> None:
    """A currency it does not know, a limit under 1, a negative balance or a marker without
    its class is a usage error (exit 2) naming the problem."""
    result = CliRunner().invoke(app, ["sim", "serve", "--port", "0", *args], terminal_width=200)
    assert result.exit_code == 2
    assert said in result.output
