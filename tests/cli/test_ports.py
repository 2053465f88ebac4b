"""Port options take 0..65535, refused as a usage error (exit 2), never a crash report."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_process import environment, run_rdpipe, write_pipeline


def _usage(command: str, option: str, value: str) -> str:
    return (
        f"Usage: rdpipe {command} [OPTIONS]{' FILE' if command == 'review' else ''}\n"
        f"Try 'rdpipe {command} -h' for help.\n\n"
        f"Error: {option} {value} is not valid: give a whole number from 0 to 65535\n"
    )


@pytest.mark.parametrize(
    ("args", "option", "value"),
    [
        (("sim", "serve", "--port", "99999"), "--port", "99999"),
        (("sim", "serve", "--port", "-1"), "--port", "-1"),
        (("sim", "serve", "--storage-port", "65536"), "--storage-port", "65536"),
        (("review", "film.yaml", "--offline", "--serve", "--port", "99999"), "--port", "99999"),
    ],
)
def test_a_port_out_of_range_is_a_usage_error(
    tmp_path: Path, args: tuple[str, ...], option: str, value: str
) -> None:
    """Each port option names the value and says its range in words, exit 2, starts nothing."""
    write_pipeline(tmp_path)
    result = run_rdpipe(*args, cwd=tmp_path, env=environment(tmp_path), timeout=30)
    command = " ".join(args[:2]) if args[0] == "sim" else "review"
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == _usage(command, option, value)
    assert "unexpected error" not in result.stderr


def test_review_port_without_serve_is_refused(tmp_path: Path) -> None:
    """`review FILE --port 8000` without --serve: exit 2, says why and how to serve; no page."""
    write_pipeline(tmp_path)
    result = run_rdpipe(
        "review", "film.yaml", "--port", "8000", cwd=tmp_path, env=environment(tmp_path)
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: --port 8000 is the port of the page --serve serves; without --serve the page "
        "is written as a file and no port is used\n"
        "Add --serve: rdpipe review film.yaml --serve --port 8000\n"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["film.yaml"]
