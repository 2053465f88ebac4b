"""Helpers for tests that read a pipeline's requests and messages through the CLI.

``sb.yaml`` in the current folder (see the ``make_tree`` fixture) is the file under test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

HEAD = "version: 1\nname: demo\nmodel: doubao-seedance-2-0-720p\n"
TAIL = "\n1 error; nothing was sent to the API.\n"
Tree = Callable[[dict[str, object]], Path]
Cli = Callable[..., Result]


def bodies(cli: Cli, *args: str) -> dict[str, dict[str, Any]]:
    """The request body of every take as ``plan --json`` prints it: ``a``, then ``a#2``…"""
    result = cli("plan", "sb.yaml", "--json", *args)
    assert result.exit_code == 0, result.stderr
    shots = json.loads(result.stdout)["shots"]
    return {
        shot["id"] if shot["take"] == 1 else f"{shot['id']}#{shot['take']}": shot["request"]
        for shot in shots
    }


def prompts(cli: Cli, *args: str) -> dict[str, str]:
    """Each shot's POSTed prompt by shot id."""
    return {label: body["prompt"] for label, body in bodies(cli, *args).items()}


def errors_of(cli: Cli, *args: str) -> list[str]:
    """The lines ``validate`` prints before its count line; exit 2 is asserted."""
    result = cli("validate", "sb.yaml", *args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    lines = result.stderr.removeprefix("error: ").splitlines()
    assert lines[-1].endswith("nothing was sent to the API.")
    return lines[:-1]


def error_of(cli: Cli) -> str:
    """The one error ``validate`` reports."""
    result = cli("validate", "sb.yaml")
    assert result.stderr.endswith(TAIL), result.stderr
    (error,) = errors_of(cli)
    return error
