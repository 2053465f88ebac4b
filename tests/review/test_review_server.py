"""The review server over real sockets on 127.0.0.1: state, static files, and guarded picks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rdpipe.hints import Invocation
from rdpipe.review import TOKEN_HEADER, ReviewNotServed, ReviewServer, serve
from rdpipe.yaml_edit import read_picks
from tests.review.review_tree import PIPELINE_YAML, RunTree, manifest_document, write_manifest


@pytest.fixture
def server(run_tree: RunTree) -> Iterator[ReviewServer]:
    """A review server for the run tree, on a free port, as `rdpipe review film/lighthouse.yaml
    --offline --serve` run from the folder above the pipeline's would start it."""
    here = Invocation(run_tree.root.parent, Path("film/lighthouse.yaml"), offline=True)
    with serve(run_tree.manifest, run_tree.pipeline, invocation=here) as running:
        yield running


def post_pick(server: ReviewServer, body: object, **headers: str) -> httpx.Response:
    """POST a pick as the page would, with the given extra headers."""
    return httpx.post(f"{server.url}api/pick", json=body, headers=headers, timeout=10)


def test_the_page_carries_the_token_and_the_state_lists_cards(server: ReviewServer) -> None:
    """GET / is the live page with this server's token; /api/state has a versioned card per shot."""
    page = httpx.get(server.url, timeout=10)
    assert page.status_code == 200 and f'content="{server.token}"' in page.text
    assert server.url.startswith("http://127.0.0.1:")
    state = httpx.get(f"{server.url}api/state", timeout=10).json()
    assert [shot["id"] for shot in state["shots"]] == ["coast", "stairs", "lamp"]
    assert all(f'data-version="{shot["version"]}"' in shot["html"] for shot in state["shots"])


def test_clips_are_served_with_byte_ranges(server: ReviewServer) -> None:
    """Clip links on the page are served from the output folder, seekable (206 for a range)."""
    response = httpx.get(
        f"{server.url}clips/coast/1-aaaa.mp4", headers={"Range": "bytes=0-9"}, timeout=10
    )
    assert response.status_code == 206 and len(response.content) == 10


def test_a_pick_with_the_token_is_written_into_the_pipeline(
    server: ReviewServer, run_tree: RunTree
) -> None:
    """POST /api/pick with the token sets pick: in the file and answers with what to do next."""
    response = post_pick(server, {"shot": "coast", "take": 3}, **{TOKEN_HEADER: server.token})
    assert response.status_code == 200
    assert response.json()["message"] == (
        "coast: take 3 picked in lighthouse.yaml. "
        "Run `rdpipe assemble film/lighthouse.yaml --offline` to rebuild the video."
    )
    assert read_picks(run_tree.pipeline)["coast"] == 3
    cleared = post_pick(server, {"shot": "coast", "take": None}, **{TOKEN_HEADER: server.token})
    assert cleared.status_code == 200
    assert run_tree.pipeline.read_text() == PIPELINE_YAML


def test_picks_without_the_token_or_from_elsewhere_are_refused(
    server: ReviewServer, run_tree: RunTree
) -> None:
    """No token, a wrong token, a foreign Origin or Host: 403 and the file is untouched."""
    body = {"shot": "coast", "take": 2}
    assert post_pick(server, body).status_code == 403
    assert post_pick(server, body, **{TOKEN_HEADER: "guess"}).status_code == 403
    good = {TOKEN_HEADER: server.token}
    assert post_pick(server, body, Origin="http://evil.example", **good).status_code == 403
    assert post_pick(server, body, Host="evil.example", **good).status_code == 403
    assert httpx.get(server.url, headers={"Host": "evil.example"}, timeout=10).status_code == 403
    assert run_tree.pipeline.read_text() == PIPELINE_YAML


def test_bad_picks_get_the_reason(server: ReviewServer) -> None:
    """Malformed bodies are 400, unknown shots 404, takes out of range 400 with the message."""
    token = {TOKEN_HEADER: server.token}
    assert post_pick(server, {"shot": "coast"}, **token).status_code == 400
    assert post_pick(server, {"shot": "coast", "take": 0}, **token).status_code == 400
    assert post_pick(server, {"shot": "harbour", "take": 1}, **token).status_code == 404
    too_far = post_pick(server, {"shot": "coast", "take": 9}, **token)
    assert too_far.status_code == 400
    assert "has no take 9; a take is between 1 and 3" in too_far.json()["error"]


def test_the_state_follows_the_manifest_as_the_run_rewrites_it(
    server: ReviewServer, run_tree: RunTree
) -> None:
    """When a take finishes, only that shot's card version changes."""
    before = httpx.get(f"{server.url}api/state", timeout=10).json()
    document = manifest_document(run_tree.pipeline, running=True)
    document["shots"][1]["takes"][1].update(status="failed", message="upstream failure")
    write_manifest(run_tree, document)
    after = httpx.get(f"{server.url}api/state", timeout=10).json()
    changed = [a["id"] for a, b in zip(after["shots"], before["shots"], strict=True)
               if a["version"] != b["version"]]  # fmt: skip
    assert changed == ["stairs"] and "upstream failure" in after["shots"][1]["html"]
    assert after["running"] is True


def test_the_server_listens_only_on_loopback(run_tree: RunTree) -> None:
    """Asking for another interface is refused before anything listens."""
    with (
        pytest.raises(ReviewNotServed, match="not a loopback address"),
        serve(run_tree.manifest, run_tree.pipeline, host="0.0.0.0"),
    ):
        pass


def test_before_the_run_starts_the_page_waits_for_the_manifest(run_tree: RunTree) -> None:
    """Served before any manifest exists, the page says it is waiting, then shows the run."""
    document = run_tree.manifest.read_text(encoding="utf-8")
    run_tree.manifest.unlink()
    with serve(run_tree.manifest, run_tree.pipeline) as running:
        page = httpx.get(running.url, timeout=10)
        assert page.status_code == 200
        assert "Waiting for the run: no manifest: this pipeline has not run yet." in page.text
        run_tree.manifest.write_text(document, encoding="utf-8")
        state = httpx.get(f"{running.url}api/state", timeout=10).json()
        assert [shot["id"] for shot in state["shots"]] == ["coast", "stairs", "lamp"]
