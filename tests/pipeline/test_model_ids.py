"""A typo'd model id is caught before money is spent: warned once with a did-you-mean by
``validate``, refused by ``validate --online`` and an online ``run`` against the server's
list, and, when sent anyway, reported as a model the server does not serve."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import Result

from rdpipe.sim import Faults, SimServer

SIM_API_KEY = "sk-sim-test"
TreeMaker = Callable[[dict[str, object]], Path]
TYPO = "doubao-seedance-2-0-480"
CLOSE = "doubao-seedance-2-0-480p"


def _pipeline(top: str, shots: list[str]) -> str:
    lines = ["version: 1", "name: film", f"model: {top}", "defaults: {seconds: 4}", "shots:"]
    return "\n".join([*lines, *shots]) + "\n"


FOUR_SHOTS = _pipeline(TYPO, [f"  - {{id: s{n}, prompt: lighthouse take {n}}}" for n in range(4)])


@pytest.fixture
def online(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> SimServer:
    """The served simulator as the 'real' RelayDance, through the environment."""
    monkeypatch.setenv("RELAYDANCE_BASE_URL", sim.base_url)
    monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
    return sim


def _submits(sim: SimServer) -> int:
    return sum(1 for r in sim.requests() if r.method == "POST" and "generations" in r.path)


def test_a_typo_used_by_four_shots_is_warned_once(
    make_tree: TreeMaker, cli: Callable[..., Result]
) -> None:
    """One warning for the id, at the line it is written, naming the shots and the close id."""
    make_tree({"sb.yaml": FOUR_SHOTS})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 0
    assert result.stderr == (
        f"sb.yaml:3:8: model: warning: model '{TYPO}' is not in rdpipe's catalog; did you mean "
        f"'{CLOSE}'? (used by shots s0, s1, s2, s3)\n"
    )
    assert result.stdout == "sb.yaml: OK (4 shots)\n"


def test_one_id_written_in_two_places_names_both(
    make_tree: TreeMaker, cli: Callable[..., Result]
) -> None:
    """The same unknown id written by two shots: one warning at the first, naming the other."""
    shots = [
        f"  - {{id: a, prompt: x, model: {TYPO}}}",
        f"  - {{id: b, prompt: y, model: {CLOSE}}}",
        f"  - {{id: c, prompt: z, model: {TYPO}}}",
    ]
    make_tree({"sb.yaml": _pipeline(CLOSE, shots)})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 0
    assert result.stderr == (
        f"sb.yaml:6:31: shots[0].model: warning: model '{TYPO}' is not in rdpipe's catalog; "
        f"did you mean '{CLOSE}'? (used by shots a, c; also written at sb.yaml:8 "
        "shots[2].model)\n"
    )


def test_validate_online_refuses_an_id_the_server_does_not_serve(
    make_tree: TreeMaker, cli: Callable[..., Result], online: SimServer
) -> None:
    """--online: exit 2, file:line:field, the id and the closest id served; nothing posted.
    The refusal replaces the catalog's warning for the same id: one id, one message."""
    make_tree({"sb.yaml": FOUR_SHOTS})
    result = cli("validate", "--online", "sb.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: sb.yaml:3:8: model: model '{TYPO}' is not served by "
        f"{urlsplit(online.base_url).netloc}; did you mean '{CLOSE}'? "
        "(used by shots s0, s1, s2, s3)\n"
        "1 error; nothing was sent to the API.\n"
    )
    assert [r.path for r in online.requests()] == ["/v1/models"]
    assert _submits(online) == 0


def test_validate_online_passes_the_ids_served(
    make_tree: TreeMaker, cli: Callable[..., Result], online: SimServer
) -> None:
    """--online with a served id: OK, no warning, and only the model list is read."""
    make_tree({"sb.yaml": FOUR_SHOTS.replace(TYPO, CLOSE)})
    result = cli("validate", "--online", "sb.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "sb.yaml: OK (4 shots)\n", "")
    assert [r.path for r in online.requests()] == ["/v1/models"]


def test_validate_online_without_the_list_says_so_once(
    make_tree: TreeMaker, cli: Callable[..., Result]
) -> None:
    """A server that cannot be reached: one note for two files, and exit 0 (the files are
    valid as far as rdpipe can tell)."""
    valid = FOUR_SHOTS.replace(TYPO, CLOSE)
    make_tree({"a.yaml": valid, "b.yaml": valid})
    result = cli("validate", "--online", "a.yaml", "b.yaml")
    assert result.exit_code == 0
    assert result.stdout == "a.yaml: OK (4 shots)\nb.yaml: OK (4 shots)\n"
    host = urlsplit(os.environ["RELAYDANCE_BASE_URL"]).netloc  # a closed port (the fixture)
    assert result.stderr == (
        f"note: the model list could not be read from {host} (could not reach RelayDance for "
        "GET /v1/models: ConnectError: All connection attempts failed); model ids were checked "
        "against rdpipe's catalog only\n"
    )


def test_an_online_run_refuses_the_id_before_any_submit(
    make_tree: TreeMaker, cli: Callable[..., Result], online: SimServer
) -> None:
    """`rdpipe run` online: exit 2 with the same paragraph, and 0 POSTs to the generations."""
    make_tree({"sb.yaml": FOUR_SHOTS})
    result = cli("run", "sb.yaml")
    assert result.exit_code == 2, result.stdout + result.stderr
    host = urlsplit(online.base_url).netloc
    assert (
        f"error: sb.yaml:3:8: model: model '{TYPO}' is not served by {host}; did you mean "
        f"'{CLOSE}'? (used by shots s0, s1, s2, s3)\n1 error; nothing was sent to the API.\n"
    ) in result.stderr
    assert _submits(online) == 0


def test_an_offline_run_refuses_the_id_before_any_submit(
    make_tree: TreeMaker, cli: Callable[..., Result]
) -> None:
    """Offline, the simulator's list is the check: the typo is refused with the simulator's
    closest id, exit 2, before any submit (it used to fail every shot with 503)."""
    make_tree({"sb.yaml": FOUR_SHOTS})
    result = cli("run", "sb.yaml", "--offline", "--poll-interval", "0.1")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert (
        f"error: sb.yaml:3:8: model: model '{TYPO}' is not served by the offline simulator; did "
        f"you mean '{CLOSE}'? (used by shots s0, s1, s2, s3)\n1 error; nothing was sent to the "
        "API.\n"
    ) in result.stderr
    assert " s0: " not in result.stdout


def test_a_model_not_found_at_submit_is_not_retried_advice(
    make_tree: TreeMaker, cli: Callable[..., Result], online: SimServer
) -> None:
    """A model the server lists but no channel serves (new-api's 503 model_not_found at
    submit): each shot's reason says the model is not served, and the next step says to change
    the file, not to rerun to retry."""
    make_tree({"sb.yaml": FOUR_SHOTS.replace(TYPO, CLOSE).replace("s1", "t1")})
    online.faults = Faults(channels_down=frozenset({CLOSE}))
    result = cli("run", "sb.yaml", "--poll-interval", "0.1")
    assert result.exit_code == 1, result.stdout + result.stderr
    reason = (
        "refused by RelayDance: RelayDance does not serve the model this shot names (503 "
        f"model_not_found): No available channel for model {CLOSE} under group default "
        "(distributor); change it to one `rdpipe models` lists (sent again unchanged, it is "
        "refused again)"
    )
    assert f"s0: failed (refused): {reason}" in result.stdout.splitlines()
    assert "tries again" not in result.stdout
    assert (
        "RelayDance refused s0, t1, s2, s3 as sent and refuses the same request again: change "
        "the pipeline file as the reasons above say, then `rdpipe run sb.yaml`."
    ) in result.stdout.splitlines()
