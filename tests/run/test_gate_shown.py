"""The run's bound on requests in flight (the adaptive gate) as the command line shows it: the
live view's header on a terminal, a line per cut elsewhere; and the summary's outcome words."""

from __future__ import annotations

import io

from rich.console import Console

from rdpipe.cli.progress import LiveReporter
from rdpipe.cli.run_commands import shot_outcome
from rdpipe.cli.run_session import ConsoleRunReporter
from rdpipe.plan import Plan
from rdpipe.redaction import NO_SECRETS
from rdpipe.scheduler import GateChanged, Outcome, Phase, ShotResult

LOWERED = GateChanged(4, 32, lowered=True)


def _plain() -> tuple[ConsoleRunReporter, io.StringIO]:
    text = io.StringIO()
    console = Console(file=text, markup=False, soft_wrap=True, highlight=False)
    return ConsoleRunReporter(console, NO_SECRETS), text


def test_plain_output_says_each_cut_and_not_each_raise() -> None:
    reporter, text = _plain()
    reporter.run_event(LOWERED)
    reporter.run_event(GateChanged(5, 32))
    assert text.getvalue() == (
        "the relay's concurrency gate is full (429 token_concurrency_limit_reached): "
        "concurrency 4/32, raised again as requests pass\n"
    )


def test_the_live_view_shows_the_bound_in_its_header() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=80)
    live = LiveReporter(console, ["a"], NO_SECRETS, clock=lambda: 0.0)
    console.print(live._render())
    assert "concurrency" not in screen.getvalue()
    live.show_gate(LOWERED)
    console.print(live._render())
    assert "concurrency 4/32" in screen.getvalue()


def test_the_console_reporter_hands_changes_to_the_live_view() -> None:
    screen = io.StringIO()
    reporter = ConsoleRunReporter(Console(file=screen, force_terminal=True, width=80), NO_SECRETS)
    with reporter.shots(Plan("film", [])) as shots:
        assert isinstance(shots, LiveReporter)
        reporter.run_event(LOWERED)
        assert "concurrency 4/32" in str(shots._render().renderables[0])
    assert "gate is full" not in screen.getvalue()  # shown in the header, not as a line


def test_a_result_reads_as_its_phase_and_outcome() -> None:
    def result(phase: Phase, outcome: Outcome) -> ShotResult:
        return ShotResult("a", "k", phase, outcome=outcome)

    assert shot_outcome(result(Phase.FAILED, Outcome.REFUNDED)) == "failed (refunded)"
    assert shot_outcome(result(Phase.SKIPPED, Outcome.SKIPPED)) == "skipped"
    assert shot_outcome(result(Phase.UNKNOWN, Outcome.UNKNOWN)) == "unknown"
    assert shot_outcome(result(Phase.DONE, Outcome.SUCCEEDED)) == "done (succeeded)"
