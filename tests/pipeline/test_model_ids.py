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
from tests.lying_models import LyingModels, lying_models

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
    make_tree: TreeMaker, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that cannot be reached: one note for two files, in words (no Python class
    name), and exit 0 (the files are valid as far as rdpipe can tell)."""
    monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
    valid = FOUR_SHOTS.replace(TYPO, CLOSE)
    make_tree({"a.yaml": valid, "b.yaml": valid})
    result = cli("validate", "--online", "a.yaml", "b.yaml")
    assert result.exit_code == 0
    assert result.stdout == "a.yaml: OK (4 shots)\nb.yaml: OK (4 shots)\n"
    host = urlsplit(os.environ["RELAYDANCE_BASE_URL"]).netloc  # a closed port (the fixture)
    assert result.stderr == (
        f"note: the model list could not be read from {host} (could not reach RelayDance for "
        "GET /v1/models: connection refused); model ids were checked "
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


FINAL_TYPO = "doubao-seedance-2-0-72Op"
DRAFTED = f"""version: 1
name: film
defaults:
  seconds: 4
  draft: {{model: doubao-seedance-2-0-480p}}
shots:
  - id: a
    prompt: one
    model: {FINAL_TYPO}
  - id: b
    prompt: two
    model: {FINAL_TYPO}
"""
FAMILY_WARNING = (
    "sb.yaml:5:18: defaults.draft.model: warning: rdpipe cannot tell whether "
    f"doubao-seedance-2-0-480p is of the family of the final {FINAL_TYPO} ({FINAL_TYPO} is not "
    "in its catalog): a draft's seed reproduces the picture only on the same model family\n"
)


def test_a_drafted_shots_final_id_is_warned_before_any_draft(
    make_tree: TreeMaker, cli: Callable[..., Result]
) -> None:
    """Shots awaiting their pick send only drafts now, but their final's id is checked too:
    the catalog's did-you-mean at the line it is written."""
    make_tree({"sb.yaml": DRAFTED})
    result = cli("validate", "sb.yaml")
    assert (result.exit_code, result.stdout) == (0, "sb.yaml: OK (2 shots)\n")
    assert result.stderr == FAMILY_WARNING + (
        f"sb.yaml:9:12: shots[0].model: warning: model '{FINAL_TYPO}' is not in rdpipe's "
        "catalog; did you mean 'doubao-seedance-2-0-720p'? (used by shots a, b; also written "
        "at sb.yaml:12 shots[1].model)\n"
    )


def test_validate_online_refuses_a_drafted_shots_final_id_once(
    make_tree: TreeMaker, cli: Callable[..., Result], online: SimServer
) -> None:
    """--online: the final's id the server does not serve is refused (exit 2), in one message:
    neither the catalog's warning nor the draft's family warning about the same id."""
    make_tree({"sb.yaml": DRAFTED})
    result = cli("validate", "--online", "sb.yaml")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: sb.yaml:9:12: shots[0].model: model '{FINAL_TYPO}' is not served by "
        f"{urlsplit(online.base_url).netloc}; did you mean 'doubao-seedance-2-0-720p'? (used by "
        "shots a, b; also written at sb.yaml:12 shots[1].model)\n"
        "1 error; nothing was sent to the API.\n"
    )
    assert [r.path for r in online.requests()] == ["/v1/models"]


def test_an_online_run_refuses_a_drafted_shots_final_id_before_any_draft(
    make_tree: TreeMaker, cli: Callable[..., Result], online: SimServer
) -> None:
    """`rdpipe run` would pay for the drafts, then fail at the final: refused up front, 0 POSTs."""
    make_tree({"sb.yaml": DRAFTED})
    result = cli("run", "sb.yaml", "--poll-interval", "0.05")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.endswith(
        f"error: sb.yaml:9:12: shots[0].model: model '{FINAL_TYPO}' is not served by "
        f"{urlsplit(online.base_url).netloc}; did you mean 'doubao-seedance-2-0-720p'? (used by "
        "shots a, b; also written at sb.yaml:12 shots[1].model)\n"
        "1 error; nothing was sent to the API.\n"
    )
    assert _submits(online) == 0


VALID = FOUR_SHOTS.replace(TYPO, CLOSE)

#: Answers to GET /v1/models that are not a model list, and what the note says of each.
NOT_A_LIST = [
    ("null", "the answer is null, not an object"),
    ('"doubao-seedance-2-0-480p"', "the answer is a string, not an object"),
    (f'[{{"id": "{CLOSE}"}}]', "the answer is a list, not an object"),
    ('{"data": "abc"}', "its data is a string, not a list of models"),
    ('{"data": null}', "its data is null, not a list of models"),
    (f'{{"data": {{"id": "{CLOSE}"}}}}', "its data is an object, not a list of models"),
    ('{"data": [{"id": {"x": 1}}]}', "entry 1 of its list is not a model with an id"),
    (
        f'{{"data": [{{"id": "{CLOSE}"}}, 1, null, {{"id": 5}}]}}',
        "entry 2 of its list is not a model with an id",
    ),
    ('{"object": "list", "data": []}', "its list of models is empty"),
]


@pytest.mark.parametrize(("body", "problem"), NOT_A_LIST)
def test_a_model_list_that_is_not_one_is_a_note_never_none_served(
    make_tree: TreeMaker,
    cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    body: str,
    problem: str,
) -> None:
    """A server lying on GET /v1/models (null, a string, data not a list of objects with string
    ids, an empty list) says nothing of what it serves: the note, exit 0 for a valid file,
    never "not served" for an id it may well serve."""
    make_tree({"sb.yaml": VALID})
    with lying_models(LyingModels(body=body.encode())) as liar:
        monkeypatch.setenv("RELAYDANCE_BASE_URL", liar.base_url)
        monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
        result = cli("validate", "--online", "sb.yaml")
    assert (result.exit_code, result.stdout) == (0, "sb.yaml: OK (4 shots)\n")
    assert result.stderr == (
        f"note: the model list could not be read from {urlsplit(liar.base_url).netloc} "
        f"(RelayDance sent an unreadable answer to GET /v1/models: {problem}); model ids were "
        "checked against rdpipe's catalog only\n"
    )
    assert liar.requests == ["GET /v1/models"]  # not retried: the same answer again


def test_a_model_list_cut_mid_answer_is_said_in_words(
    make_tree: TreeMaker, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection closes halfway through the list: the note says so in words (it named
    httpx's RemoteProtocolError)."""
    make_tree({"sb.yaml": VALID})
    whole = f'{{"data": [{{"id": "{CLOSE}"}}]}}'.encode()
    with lying_models(LyingModels(body=whole, cut=True)) as liar:
        monkeypatch.setenv("RELAYDANCE_BASE_URL", liar.base_url)
        monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
        result = cli("validate", "--online", "sb.yaml")
    assert (result.exit_code, result.stdout) == (0, "sb.yaml: OK (4 shots)\n")
    assert result.stderr == (
        f"note: the model list could not be read from {urlsplit(liar.base_url).netloc} (no "
        "answer from RelayDance for GET /v1/models: the connection closed mid-answer); model "
        "ids were checked against rdpipe's catalog only\n"
    )


NO_KEY = (
    "error: RELAYDANCE_API_KEY is not set, so rdpipe cannot talk to RelayDance.\n"
    "Set it in your shell (export RELAYDANCE_API_KEY=sk-...), or run with --offline to use "
    "the built-in simulator.\n"
)
BAD_URL = (
    "error: RELAYDANCE_BASE_URL is not a usable API address ('http://a b'): it contains a "
    "space at character 9; nothing was sent.\n"
    "Unset it to use https://relaydance.com, or set it like https://relaydance.com.\n"
)


@pytest.mark.parametrize(
    ("key", "url", "said", "requests"),
    [
        (None, None, NO_KEY, []),
        (None, "http://a b", NO_KEY, []),
        (SIM_API_KEY, "http://a b", BAD_URL, []),
        (
            "sk-wrong-secret",
            None,
            "error: RelayDance refused the API key (401 new_api_error): invalid token\n"
            "Check RELAYDANCE_API_KEY (keys look like sk-...).\n",
            ["GET /v1/models"],
        ),
    ],
    ids=["no-key", "no-key-bad-url", "bad-url", "refused-key"],
)
def test_validate_online_that_cannot_go_online_is_exit_2(
    make_tree: TreeMaker,
    cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    key: str | None,
    url: str | None,
    said: str,
    requests: list[str],
) -> None:
    """--online asked for the server's check: no key, an unusable RELAYDANCE_BASE_URL or a key
    the server refuses is the paragraph `rdpipe models` prints, exit 2, not a pass (a CI line
    with a missing secret would go green). No request goes out without a key."""
    make_tree({"sb.yaml": VALID})
    refusal = b'{"error": {"message": "invalid token", "type": "new_api_error"}}'
    with lying_models(LyingModels(body=refusal, status=401)) as liar:
        monkeypatch.setenv("RELAYDANCE_BASE_URL", url or liar.base_url)
        if key is None:
            monkeypatch.delenv("RELAYDANCE_API_KEY", raising=False)
        else:
            monkeypatch.setenv("RELAYDANCE_API_KEY", key)
        result = cli("validate", "--online", "sb.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", said)
    assert liar.requests == requests
    assert "sk-wrong-secret" not in result.stderr


def test_an_id_the_server_serves_but_the_catalog_lacks_is_not_warned_online(
    make_tree: TreeMaker, cli: Callable[..., Result], online: SimServer
) -> None:
    """The server's list wins: an id it serves that rdpipe's catalog does not know has no
    did-you-mean under --online (offline, the catalog's warning stands)."""
    served = "doubao-seedance-1-0-lite-i2v"
    make_tree({"sb.yaml": FOUR_SHOTS.replace(TYPO, served)})
    offline = cli("validate", "sb.yaml")
    assert offline.stderr.startswith(
        f"sb.yaml:3:8: model: warning: model '{served}' is not in rdpipe's catalog; did you mean"
    )
    result = cli("validate", "--online", "sb.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "sb.yaml: OK (4 shots)\n", "")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            _pipeline('""', ["  - {id: a, prompt: x}", "  - {id: b, prompt: y}"]),
            "3:8: model: model is empty ('')",
        ),
        (
            _pipeline(CLOSE, ["  - {id: a, prompt: x}", "  - {id: b, prompt: y, model: '  '}"]),
            "7:31: shots[1].model: model is empty ('  ')",
        ),
    ],
    ids=["top", "shot"],
)
def test_an_empty_model_is_one_error_at_its_line(
    make_tree: TreeMaker, cli: Callable[..., Result], text: str, said: str
) -> None:
    """`model: ""` is one error where it is written, not "no model" at every shot."""
    make_tree({"sb.yaml": text})
    result = cli("validate", "sb.yaml")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: sb.yaml:{said}: write a model id, as `rdpipe models` lists them\n"
        "1 error; nothing was sent to the API.\n"
    )


def test_a_model_id_with_spaces_at_its_ends_is_quoted(
    make_tree: TreeMaker, cli: Callable[..., Result]
) -> None:
    """`model: " doubao-seedance-2-0-480p "`: plan quotes the id wherever it names it, so the
    spaces that make it unpriced (and unserved) are seen."""
    padded = f"' {CLOSE} '"
    make_tree({"sb.yaml": _pipeline(f'" {CLOSE} "', ["  - {id: a, prompt: x}"])})
    result = cli("plan", "sb.yaml", "--offline")
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert (
        f"cost: not priced (the relay's price list has no price rdpipe reads for {padded})"
    ) in lines
    assert f"* without {padded} (not priced)" in lines
    assert result.stderr.startswith(
        f"sb.yaml:3:8: model: warning: model {padded} is not in rdpipe's catalog; did you mean "
        f"'{CLOSE}'?"
    )


def test_a_slow_model_list_is_said_before_the_wait(
    make_tree: TreeMaker, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server taking 4 s over its list: after 3 s of silence a line says what rdpipe waits
    for; the check then goes on as usual."""
    make_tree({"sb.yaml": VALID})
    listed = f'{{"data": [{{"id": "{CLOSE}"}}]}}'.encode()
    with lying_models(LyingModels(body=listed, delay=4.0)) as liar:
        monkeypatch.setenv("RELAYDANCE_BASE_URL", liar.base_url)
        monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
        result = cli("validate", "--online", "sb.yaml")
    assert (result.exit_code, result.stdout) == (0, "sb.yaml: OK (4 shots)\n")
    assert result.stderr == (
        f"note: waiting for the model list from {urlsplit(liar.base_url).netloc} "
        "(GET /v1/models)...\n"
    )


def test_a_fragments_id_the_server_serves_is_not_warned_online(
    make_tree: TreeMaker, cli: Callable[..., Result], online: SimServer
) -> None:
    """A fragment writing an id the server serves but rdpipe's catalog lacks: the catalog's
    did-you-mean offline, nothing under --online."""
    served = "doubao-seedance-1-0-lite-i2v"
    film = "version: 1\nname: film\ninclude: [kit.yaml]\nshots:\n  - {id: a, prompt: x}\n"
    make_tree({"kit.yaml": f"defaults:\n  model: {served}\n", "film.yaml": film})
    offline = cli("validate", "kit.yaml")
    assert offline.stderr.startswith(
        f"kit.yaml:2:10: defaults.model: warning: model '{served}' is not in rdpipe's catalog"
    )
    result = cli("validate", "--online", "kit.yaml")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "kit.yaml: fragment (included by film.yaml): OK\n"
