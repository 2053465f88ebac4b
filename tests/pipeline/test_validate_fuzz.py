"""Random and mutated pipeline files never make `validate` crash: exit 0 or 2, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rdpipe.errors import RdpipeError
from rdpipe.prepare.pipeline import prepare_pipeline

ROOT = Path(__file__).parents[2]
SEEDS = [
    (ROOT / "pipelines" / "lighthouse" / "lighthouse.yaml").read_text(),
    (ROOT / "pipelines" / "continuity" / "continuity.yaml").read_text(),
]
LONG = os.environ.get("RDPIPE_LONG_TESTS") == "1"
EXAMPLES = int(os.environ.get("RDPIPE_FUZZ_EXAMPLES", "1500" if LONG else "150"))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["{{ x }}", "{{", "@image3", "{% for %}", "refs/none.png", "16:9", "720p"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(["id", "prompt", "seconds", "shots", "vars", "x", "references"]),
            children,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


def _mutate(text: str, data: st.DataObject) -> str:
    """Delete, duplicate or replace a random slice of a valid file."""
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 40)))
    action = data.draw(st.sampled_from(["delete", "duplicate", "replace"]))
    if action == "delete":
        return text[:start] + text[end:]
    if action == "duplicate":
        return text[:end] + text[start:end] + text[end:]
    return text[:start] + data.draw(st.text(max_size=20)) + text[end:]


def _check(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        prepare_pipeline(path, cwd=path.parent)
    except RdpipeError as error:
        assert error.exit_code == 2
        assert str(error).strip()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_files_never_crash(tmp_path: Path, data: st.DataObject) -> None:
    """Slices of example files deleted, doubled or replaced give a clear error or pass."""
    text = _mutate(data.draw(st.sampled_from(SEEDS)), data)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return
    _check(tmp_path / "sb.yaml", text)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    document=st.dictionaries(
        st.sampled_from(
            [
                "version",
                "name",
                "model",
                "defaults",
                "vars",
                "references",
                "shots",
                "output",
                "include",
                "budget",
            ]
        ),
        values,
        max_size=8,
    )
)
def test_random_documents_never_crash(tmp_path: Path, document: dict[str, object]) -> None:
    """Random YAML documents with pipeline-like keys give a clear error or pass."""
    try:
        text = yaml.safe_dump(document, allow_unicode=True)
    except yaml.YAMLError:
        pytest.skip("not representable")
    if max(text, default=" ") >= "\ud800" and any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return
    _check(tmp_path / "sb.yaml", text)
