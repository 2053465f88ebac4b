"""The folder's hosted files, refused extensions and portraits (issue 14): kept once for every
pipeline, replaced in place, apart per host, and never holding a key or a query string in text."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rdpipe.redaction import Redactor
from rdpipe.state import HostedRecord, PortraitRecord, StateStore, StateWriteFailed
from rdpipe.state._schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

MD5 = "0123456789abcdef0123456789abcdef"
OTHER_MD5 = "fedcba9876543210fedcba9876543210"
MEDIA_HOST = "pay.relaydance.com"
STORE = "s3://team-bucket/films"
KEY = "rd-live-0123456789abcdefghij"  # the command's API key, as its environment holds it
PRESIGNED = (
    "https://team-bucket.s3.amazonaws.com/films/media/0123.mp4"
    "?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=feedface00"
)


@pytest.fixture
def version_3_database(tmp_path: Path) -> Path:
    """A state.db as rdpipe wrote it before issue 14, built by the migrations up to 3: a shot
    with its clip, and a task still in flight, both sent to the host ``relay:9``."""
    path = tmp_path / "v3" / "state.db"
    path.parent.mkdir()
    with sqlite3.connect(path, isolation_level=None) as writer:
        writer.execute("BEGIN")
        for step in (1, 2, 3):
            MIGRATIONS[step](writer)
        writer.execute(
            "INSERT INTO intents VALUES (1, 'p', 'k1', 'coast', 1, 1, 'm', '{}', 10.0, "
            "'submitted', NULL, 'task_x', 11.0, 'relay:9')"
        )
        writer.execute(
            "INSERT INTO intents VALUES (2, 'p', 'k2', 'lamp', 1, 1, 'm', '{}', 20.0, "
            "'submitted', NULL, 'task_y', 21.0, 'relay:9')"
        )
        writer.execute(
            "INSERT INTO tasks VALUES (1, 'task_x', 11.0, 'succeeded', 100, NULL, NULL, 5, 4.0, "
            "12.0, 12.0, NULL)"
        )
        writer.execute(
            "INSERT INTO tasks VALUES (2, 'task_y', 21.0, 'running', 30, NULL, NULL, NULL, NULL, "
            "22.0, NULL, NULL)"
        )
        writer.execute(
            f"INSERT INTO clips VALUES (1, 1, 'clips/coast/1-k1.mp4', 9, '{'ab' * 32}', 4.0, 5, "
            "13.0)"
        )
        writer.execute("PRAGMA user_version=3")
        writer.execute(f"PRAGMA application_id={APPLICATION_ID}")
        writer.execute("COMMIT")
    return path


def _portrait(md5: str = MD5, host: str = MEDIA_HOST, **changes: Any) -> PortraitRecord:
    record = PortraitRecord(
        md5=md5,
        host=host,
        asset_id="asset-000000000000000000000001",
        uri=None,
        status="Processing",
        reason=None,
        source_url=f"https://{host}/media/{md5}.png",
        name="mara",
        file="refs/mara.png",
        registered_at=100.0,
        updated_at=100.0,
    )
    return dataclasses.replace(record, **changes)


def test_a_hosted_file_is_replaced_in_place_and_read_back_whole(store: StateStore) -> None:
    """Recording a file again on the same host replaces its URL, size and expiry; the record
    carries what was given and the clock's time of the last recording."""
    store.record_hosted(MD5, "mp4", 10, "https://old/media/a.mp4", host=STORE, expires_at=500.0)
    store.record_hosted(MD5, "mp4", 12, PRESIGNED, host=STORE, expires_at=900.0)
    assert store.hosted(MD5, "mp4", STORE) == HostedRecord(
        md5=MD5,
        ext="mp4",
        size=12,
        url=PRESIGNED,
        host=STORE,
        expires_at=900.0,
        recorded_at=1_780_000_002.0,  # the fixture's clock: one second per reading
    )


def test_hosted_files_are_apart_per_host_and_extension(store: StateStore) -> None:
    """The same bytes hosted on the media host and on a store are two records; forgetting one
    keeps the other, and another extension or host is not found."""
    store.record_hosted(
        MD5, "png", 3, f"https://{MEDIA_HOST}/m.png", host=MEDIA_HOST, expires_at=None
    )
    store.record_hosted(MD5, "png", 3, PRESIGNED, host=STORE, expires_at=50.0)
    assert store.hosted(MD5, "jpg", MEDIA_HOST) is None
    assert store.hosted(MD5, "png", "localhost:8080") is None
    store.forget_hosted(MD5, "png", MEDIA_HOST)
    store.forget_hosted(MD5, "png", MEDIA_HOST)  # already gone: nothing to do
    assert store.hosted(MD5, "png", MEDIA_HOST) is None
    kept = store.hosted(MD5, "png", STORE)
    assert kept is not None and (kept.url, kept.expires_at) == (PRESIGNED, 50.0)


def test_a_negative_size_is_refused(store: StateStore) -> None:
    """A size below zero is a caller's mistake, refused before anything is written."""
    with pytest.raises(ValueError, match="got -1"):
        store.record_hosted(MD5, "png", -1, "https://h/m.png", host=MEDIA_HOST, expires_at=None)
    assert store.hosted(MD5, "png", MEDIA_HOST) is None


def test_refused_extensions_are_per_host_and_keep_the_latest_message(store: StateStore) -> None:
    """A host's refusal of an extension is kept with its message, the newest replacing the
    older; another host's refusals are its own."""
    store.record_refused_extension(MEDIA_HOST, "mp4", "unsupported file type: mp4")
    store.record_refused_extension(MEDIA_HOST, "wav", "unsupported file type: wav")
    store.record_refused_extension(MEDIA_HOST, "mp4", "video uploads are not enabled")
    store.record_refused_extension("localhost:8080", "mov", "unsupported file type: mov")
    assert store.refused_extensions(MEDIA_HOST) == {
        "mp4": "video uploads are not enabled",
        "wav": "unsupported file type: wav",
    }
    assert store.refused_extensions("localhost:8080") == {"mov": "unsupported file type: mov"}
    assert store.refused_extensions(STORE) == {}


def test_a_portrait_is_replaced_in_place_per_image_and_host(store: StateStore) -> None:
    """Recording a portrait again for the same image and host replaces every field; the same
    image on another host is a portrait of its own."""
    store.record_portrait(_portrait())
    active = _portrait(status="Active", uri="asset://asset-1", updated_at=130.0)
    store.record_portrait(active)
    elsewhere = _portrait(host="localhost:8080", asset_id="asset-2")
    store.record_portrait(elsewhere)
    assert store.portrait(MD5, MEDIA_HOST) == active
    assert store.portrait(MD5, "localhost:8080") == elsewhere
    assert store.portrait(OTHER_MD5, MEDIA_HOST) is None


def test_portraits_are_listed_newest_registration_first(store: StateStore) -> None:
    """Every host's portraits are listed, the newest registration first (on a tie, the one
    recorded first comes last); a registration made again moves its portrait up."""
    store.record_portrait(_portrait(MD5, registered_at=100.0))
    store.record_portrait(_portrait(OTHER_MD5, registered_at=200.0))
    store.record_portrait(_portrait(MD5, host="localhost:8080", registered_at=200.0))
    listed = [(p.md5, p.host) for p in store.portraits()]
    assert listed == [
        (MD5, "localhost:8080"),
        (OTHER_MD5, MEDIA_HOST),
        (MD5, MEDIA_HOST),
    ]
    store.record_portrait(_portrait(MD5, registered_at=300.0))
    assert [(p.md5, p.host) for p in store.portraits()] == [
        (MD5, MEDIA_HOST),
        (MD5, "localhost:8080"),
        (OTHER_MD5, MEDIA_HOST),
    ]


def test_media_records_are_the_folders_and_survive_reopening(tmp_path: Path) -> None:
    """What one pipeline recorded is read back whole by another pipeline of the same folder
    after the store is closed and opened again."""
    path = tmp_path / ".rdpipe" / "state.db"
    portrait = _portrait(status="Failed", reason="real person", updated_at=150.0)
    with StateStore.open(path, pipeline="coast", clock=lambda: 42.0) as first:
        first.record_hosted(MD5, "wav", 7, PRESIGNED, host=STORE, expires_at=99.5)
        first.record_refused_extension(MEDIA_HOST, "wav", "unsupported file type: wav")
        first.record_portrait(portrait)
    with StateStore.open(path, pipeline="lamp", clock=lambda: 0.0) as second:
        assert second.hosted(MD5, "wav", STORE) == HostedRecord(
            md5=MD5, ext="wav", size=7, url=PRESIGNED, host=STORE, expires_at=99.5, recorded_at=42.0
        )
        assert second.refused_extensions(MEDIA_HOST) == {"wav": "unsupported file type: wav"}
        assert second.portraits() == [portrait]


def test_texts_are_kept_without_keys_or_query_strings(tmp_path: Path) -> None:
    """A refusal message and an audit's reason are stored without the command's key, key
    shapes or URL query strings; a portrait's source URL loses its query; a hosted file's URL
    (a store's presigned URL) is kept as given, since it is what a request sends."""
    redactor = Redactor((KEY,))
    path = tmp_path / "state.db"
    with StateStore.open(path, pipeline="p", clock=lambda: 1.0, redactor=redactor) as store:
        store.record_refused_extension(
            MEDIA_HOST, "mp4", f"refused for {KEY} (Bearer sk-abcdef123456 sent) at {PRESIGNED}"
        )
        store.record_portrait(
            _portrait(reason=f"see {PRESIGNED} with key {KEY}", source_url=PRESIGNED)
        )
        store.record_hosted(MD5, "mp4", 1, PRESIGNED, host=STORE, expires_at=None)
        message = store.refused_extensions(MEDIA_HOST)["mp4"]
        portrait = store.portrait(MD5, MEDIA_HOST)
        hosted = store.hosted(MD5, "mp4", STORE)
    assert message == (
        "refused for [API key] (Bearer [redacted] sent) at "
        "https://team-bucket.s3.amazonaws.com/films/media/0123.mp4?<redacted>"
    )
    assert portrait is not None
    assert portrait.reason == (
        "see https://team-bucket.s3.amazonaws.com/films/media/0123.mp4?<redacted> with key "
        "[API key]"
    )
    assert (
        portrait.source_url
        == "https://team-bucket.s3.amazonaws.com/films/media/0123.mp4?<redacted>"
    )
    assert hosted is not None and hosted.url == PRESIGNED


def test_failed_writes_name_the_file_without_keys_or_query_strings(tmp_path: Path) -> None:
    """Each media write that fails names the state file and what it was recording, and no
    error says the key, a key shape, a URL's query string or its user info."""
    path = tmp_path / "state.db"
    StateStore.open(path, pipeline="p", clock=lambda: 1.0).close()
    host = f"s3://user:{KEY}@team-bucket/films?token=sk-abcdef123456"
    writes: list[Callable[[StateStore], None]] = [
        lambda s: s.record_hosted(MD5, "mp4", 1, PRESIGNED, host=host, expires_at=None),
        lambda s: s.forget_hosted(MD5, "mp4", host),
        lambda s: s.record_refused_extension(host, "mp4", f"no: {PRESIGNED} {KEY}"),
        lambda s: s.record_portrait(_portrait(host=host, source_url=PRESIGNED, reason=KEY)),
    ]
    errors: list[str] = []
    with StateStore.open(
        path, pipeline="p", clock=lambda: 1.0, read_only=True, redactor=Redactor((KEY,))
    ) as store:
        for write in writes:
            with pytest.raises(StateWriteFailed) as caught:
                write(store)
            errors.append(f"{caught.value} {caught.value.hint}")
    assert errors[0].startswith(
        f"Could not record where {MD5}.mp4 is hosted on s3://team-bucket/films?<redacted> in "
        f"{path}: attempt to write a readonly database."
    )
    for text in errors:
        assert str(path) in text
        for secret in (KEY, "sk-abcdef", "token=", "X-Amz", "AKIAEXAMPLE", "user:"):
            assert secret not in text


def test_a_version_3_state_is_migrated_keeping_its_tasks_and_clips(
    version_3_database: Path,
) -> None:
    """A state.db of schema 3 keeps its submits, tasks (with their host) and clips, gains the
    empty media tables, and takes media records at once."""
    with StateStore.open(version_3_database, pipeline="p", clock=lambda: 50.0) as store:
        state = store.lookup("k1", 1)
        assert [(c.task_id, c.path, c.sha256) for c in state.clips] == [
            ("task_x", "clips/coast/1-k1.mp4", "ab" * 32)
        ]
        assert [(t.task_id, t.api_host) for t in state.succeeded] == [("task_x", "relay:9")]
        assert [(t.task_id, t.api_host) for t in store.in_flight()] == [("task_y", "relay:9")]
        assert store.portraits() == [] and store.refused_extensions(MEDIA_HOST) == {}
        store.record_hosted(MD5, "png", 5, "https://h/m.png", host=MEDIA_HOST, expires_at=None)
        assert store.hosted(MD5, "png", MEDIA_HOST) is not None
    with sqlite3.connect(version_3_database) as reader:
        assert reader.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert reader.execute("PRAGMA foreign_key_check").fetchall() == []
        assert reader.execute("SELECT count(*) FROM intents").fetchone() == (2,)


def test_a_version_3_state_reads_read_only_without_being_changed(version_3_database: Path) -> None:
    """A read-only store reads a schema 3 file through a migrated copy: its tasks and clips,
    no media yet; media writes are refused and the file keeps its bytes and version."""
    before = version_3_database.read_bytes()
    with StateStore.open(
        version_3_database, pipeline="p", clock=lambda: 0.0, read_only=True
    ) as store:
        assert [c.task_id for c in store.lookup("k1", 1).clips] == ["task_x"]
        assert store.hosted(MD5, "png", MEDIA_HOST) is None
        assert store.portraits() == []
        with pytest.raises(StateWriteFailed, match="readonly"):
            store.record_refused_extension(MEDIA_HOST, "mp4", "unsupported file type: mp4")
    assert version_3_database.read_bytes() == before
    assert sorted(p.name for p in version_3_database.parent.iterdir()) == ["state.db"]


def test_a_read_only_store_sees_media_a_run_has_recorded(tmp_path: Path) -> None:
    """While a run holds the state open (WAL), a read-only store (``rdpipe assets``) sees the
    portraits and hosted files it has committed."""
    path = tmp_path / "state.db"
    with StateStore.open(path, pipeline="p", clock=lambda: 5.0) as writer:
        writer.record_portrait(_portrait(status="Active", uri="asset://asset-1"))
        writer.record_hosted(MD5, "png", 5, "https://h/m.png", host=MEDIA_HOST, expires_at=None)
        with StateStore.open(path, pipeline="q", clock=lambda: 0.0, read_only=True) as reader:
            assert [p.uri for p in reader.portraits()] == ["asset://asset-1"]
            hosted = reader.hosted(MD5, "png", MEDIA_HOST)
            assert hosted is not None and hosted.url == "https://h/m.png"
