"""``rdpipe models``: the server's list merged with the local catalog, as a table or JSON."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rdpipe.catalog import load_catalog
from rdpipe.cli import app
from rdpipe.cli.models_commands import merge_models
from rdpipe.client import ModelEntry
from rdpipe.sim import SimServer
from tests.client.mock_server import SIM_KEY
from tests.lying_models import LyingModels, lying_models

VIDEO = ("openai-video",)


def test_merge_keeps_video_models_and_notes_gaps() -> None:
    """Chat models drop out, unknown video ids stay without limits, unlisted catalog ids follow."""
    catalog = load_catalog()
    server = [
        ModelEntry("gpt-4o", "openai", ("openai",)),
        ModelEntry("doubao-seedance-2-0-720p", "volc", VIDEO),
        ModelEntry("seedance-3-0-preview", "volc", VIDEO),
    ]
    rows = merge_models(server, catalog)
    offered = [(r.id, r.info is not None) for r in rows if r.offered]
    assert offered == [("doubao-seedance-2-0-720p", True), ("seedance-3-0-preview", False)]
    assert {r.id for r in rows if not r.offered} == set(catalog.ids()) - {
        "doubao-seedance-2-0-720p"
    }
    limits = rows[0].as_json()
    assert (limits["min_seconds"], limits["max_seconds"], limits["resolutions"]) == (
        4,
        15,
        ["720p"],
    )


def test_models_json_against_the_simulator(client_sim: SimServer) -> None:
    """--json lists the simulator's models with catalog limits, and flags ids the catalog lacks."""
    environ = {"RELAYDANCE_API_KEY": SIM_KEY, "RELAYDANCE_BASE_URL": client_sim.base_url}
    result = CliRunner().invoke(app, ["models", "--json"], env=environ)
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.output)["models"]}
    assert rows["seedance-1-5-pro-with-audio"]["audio"] is True
    assert rows["doubao-seedance-2-0-1080p"]["max_seconds"] == 15
    assert rows["doubao-seedance-1-0-lite-i2v"]["in_catalog"] is False
    assert all(row["offered"] for row in rows.values())


def test_models_table_marks_unknown_ids(client_sim: SimServer) -> None:
    """The table shows limits for known models and notes ids missing from the local catalog."""
    environ = {
        "RELAYDANCE_API_KEY": SIM_KEY,
        "RELAYDANCE_BASE_URL": client_sim.base_url,
        "COLUMNS": "160",
    }
    result = CliRunner().invoke(app, ["models"], env=environ)
    assert result.exit_code == 0, result.output
    lines = {
        line.split()[0]: line.split() for line in result.output.splitlines()[1:] if line.strip()
    }
    assert lines["doubao-seedance-2-0-480p"] == [
        "doubao-seedance-2-0-480p",
        "seedance-2.0",
        "4-15",
        "480p",
        "optional",
    ]
    assert lines["doubao-seedance-1-0-lite-i2v"][1:] == ["not", "in", "local", "catalog"]


def test_models_table_at_80_columns_cuts_no_value(client_sim: SimServer) -> None:
    """At 80 columns every id, duration range, resolution and audio word is whole (no "…"):
    the family is left out (it is in --json) and long cells wrap at their spaces."""
    environ = {
        "RELAYDANCE_API_KEY": SIM_KEY,
        "RELAYDANCE_BASE_URL": client_sim.base_url,
        "COLUMNS": "80",
    }
    result = CliRunner().invoke(app, ["models"], env=environ)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "…" not in result.output and max(map(len, lines)) <= 80
    assert lines[0].split() == ["model", "seconds", "resolutions", "audio", "note"]
    rows = [line.split() for line in lines[1:]]
    assert ["doubao-seedance-1-0-pro", "2-12", "480p,", "720p,", "none"] in rows
    assert ["1080p"] in rows  # the rest of 480p, 720p, 1080p, on the next line
    assert ["seedance-1-5-pro-with-audio", "4-12", "480p,", "720p,", "always"] in rows


def test_models_without_key_explains_setup() -> None:
    """Without RELAYDANCE_API_KEY the command exits 2 and says how to set it or use --offline."""
    result = CliRunner().invoke(app, ["models"], env={"RELAYDANCE_API_KEY": None})
    assert result.exit_code == 2
    assert "RELAYDANCE_API_KEY is not set" in result.output
    assert "--offline" in result.output


def test_models_with_wrong_key_says_so(client_sim: SimServer) -> None:
    """A key the server refuses exits 2 with the authentication message, never echoing the key."""
    environ = {
        "RELAYDANCE_API_KEY": "sk-wrong-secret-123",
        "RELAYDANCE_BASE_URL": client_sim.base_url,
    }
    result = CliRunner().invoke(app, ["models"], env=environ)
    assert result.exit_code == 2
    assert "RelayDance refused the API key (401" in result.output
    assert "sk-wrong-secret-123" not in result.output


def test_models_offline() -> None:
    """--offline lists the built-in simulator's models without any key."""
    result = CliRunner().invoke(
        app, ["models", "--offline", "--json"], env={"RELAYDANCE_API_KEY": None}
    )
    assert result.exit_code == 0, result.output
    assert "doubao-seedance-2-0-720p" in {row["id"] for row in json.loads(result.output)["models"]}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("null", "the answer is null, not an object"),
        ('{"data": "abc"}', "its data is a string, not a list of models"),
        ('[{"id": "doubao-seedance-2-0-480p"}]', "the answer is a list, not an object"),
        ('{"data": [1, null, {"id": 5}]}', "entry 1 of its list is not a model with an id"),
        ('{"data": []}', "its list of models is empty"),
        ('{"data": [{"object": "model"}, {"noid": 1}]}', "no entry of its list has an id"),
    ],
)
def test_models_says_a_list_that_is_not_one_could_not_be_read(body: str, problem: str) -> None:
    """A lying GET /v1/models: exit 1 and what is wrong with the answer, never every catalog
    model marked "not offered" nor a garbage entry shown as a model."""
    with lying_models(LyingModels(body=body.encode())) as liar:
        environ = {"RELAYDANCE_API_KEY": SIM_KEY, "RELAYDANCE_BASE_URL": liar.base_url}
        result = CliRunner().invoke(app, ["models"], env=environ)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: RelayDance sent an unreadable answer to GET /v1/models: {problem}.\n"
    )


def test_models_escapes_control_characters_in_server_ids() -> None:
    """An id carrying ESC or a line break is shown escaped: no colour reaches the terminal and
    the row stays one line (--json keeps the id as sent)."""
    ids = ["seedance-x\x1b[31mRED\x1b[0m", "seedance-a\nb"]
    body = json.dumps({"data": [{"id": i} for i in ids]}).encode()
    with lying_models(LyingModels(body=body)) as liar:
        environ = {
            "RELAYDANCE_API_KEY": SIM_KEY,
            "RELAYDANCE_BASE_URL": liar.base_url,
            "COLUMNS": "160",
        }
        table = CliRunner().invoke(app, ["models"], env=environ)
        shown = CliRunner().invoke(app, ["models", "--json"], env=environ)
    assert table.exit_code == 0, table.output
    assert "\x1b" not in table.stdout
    rows = [line.split() for line in table.stdout.splitlines()]
    assert ["seedance-a\\nb", "not", "in", "local", "catalog"] in rows
    assert ["seedance-x\\x1b[31mRED\\x1b[0m", "not", "in", "local", "catalog"] in rows
    assert [row["id"] for row in json.loads(shown.stdout)["models"] if row["offered"]] == sorted(
        ids
    )


def test_a_server_error_message_reaches_the_terminal_escaped() -> None:
    """A 500 whose message carries ESC and a line break: one line, the ESC written as \\x1b."""
    body = json.dumps({"error": {"message": "boom\x1b[31mRED\nline2"}}).encode()
    with lying_models(LyingModels(status=500, body=body)) as liar:
        environ = {"RELAYDANCE_API_KEY": SIM_KEY, "RELAYDANCE_BASE_URL": liar.base_url}
        result = CliRunner().invoke(app, ["models"], env=environ)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: RelayDance failed while handling GET /v1/models (500): boom\\x1b[31mRED line2\n"
        "This is on the server's side; try again in a few minutes.\n"
    )
