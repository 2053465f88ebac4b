"""Where the shared store is set: --remote, then RDPIPE_REMOTE, then rdpipe.toml up to the
repository root; every mistake named by file, line and setting, with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdpipe.errors import ExitCode
from rdpipe.remote import RemoteConfigInvalid, RemoteSetting, find_remote_setting

EXAMPLE = '[remote]\nurl = "s3://bucket/prefix"\nclaim_timeout = 600'


def _setting(
    pipeline: Path, *, explicit: str | None = None, environ: dict[str, str] | None = None
) -> RemoteSetting | None:
    return find_remote_setting(
        pipeline, explicit=explicit, environ=environ or {}, cwd=pipeline.parent
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository (``.git``) with the pipeline two folders down: ``repo/films/a/film.yaml``."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "films" / "a").mkdir(parents=True)
    pipeline = repo / "films" / "a" / "film.yaml"
    pipeline.write_text("version: 1\n")
    return pipeline


def test_nothing_set_means_no_store(project: Path) -> None:
    """No --remote, no RDPIPE_REMOTE (or an empty one), no rdpipe.toml: None."""
    assert _setting(project) is None
    assert _setting(project, environ={"RDPIPE_REMOTE": ""}) is None


def test_an_rdpipe_toml_in_a_parent_folder_is_found(project: Path) -> None:
    """rdpipe.toml at the repository root applies to a pipeline two folders down."""
    config = project.parents[2] / "rdpipe.toml"
    config.write_text('[remote]\nurl = "s3://team-clips/rdpipe"\nclaim_timeout = 90\n')

    assert _setting(project) == RemoteSetting("s3://team-clips/rdpipe", str(config), 90.0)


def test_the_search_stops_at_the_repository_root(project: Path) -> None:
    """An rdpipe.toml above the folder holding .git is not the repository's: ignored."""
    (project.parents[3] / "rdpipe.toml").write_text('[remote]\nurl = "s3://elsewhere/x"\n')

    assert _setting(project) is None


def test_without_a_repository_the_search_goes_up_to_the_root(tmp_path: Path) -> None:
    """With no .git anywhere above, the nearest rdpipe.toml upwards is used."""
    pipeline = tmp_path / "a" / "b" / "c" / "film.yaml"
    pipeline.parent.mkdir(parents=True)
    (tmp_path / "a" / "rdpipe.toml").write_text('[remote]\nurl = "gs://bucket/films"\n')

    setting = _setting(pipeline)

    assert setting == RemoteSetting("gs://bucket/films", str(tmp_path / "a" / "rdpipe.toml"))


def test_the_nearest_rdpipe_toml_wins(project: Path) -> None:
    """One beside the pipeline shadows one at the repository root."""
    (project.parents[2] / "rdpipe.toml").write_text('[remote]\nurl = "s3://root/x"\n')
    (project.parent / "rdpipe.toml").write_text('[remote]\nurl = "s3://near/x"\n')

    setting = _setting(project)

    assert setting is not None and setting.url == "s3://near/x"


def test_explicit_beats_environment_beats_file(project: Path) -> None:
    """--remote wins over RDPIPE_REMOTE, which wins over rdpipe.toml (whose timeout stays)."""
    config = project.parent / "rdpipe.toml"
    config.write_text('[remote]\nurl = "s3://from-file/x"\nclaim_timeout = 30\n')
    environ = {"RDPIPE_REMOTE": "s3://from-env/x"}

    assert _setting(project, explicit="az://from-cli/x", environ=environ) == RemoteSetting(
        "az://from-cli/x", "--remote", 30.0
    )
    assert _setting(project, environ=environ) == RemoteSetting(
        "s3://from-env/x", "RDPIPE_REMOTE", 30.0
    )
    assert _setting(project) == RemoteSetting("s3://from-file/x", str(config), 30.0)


def test_a_plain_path_is_a_folder_relative_to_where_it_is_written(project: Path) -> None:
    """A path in rdpipe.toml is taken from the file's folder; on the command line, from cwd."""
    repo = project.parents[2]
    config = repo / "rdpipe.toml"
    config.write_text('[remote]\nurl = "../shared-clips"\n')

    from_file = _setting(project)
    from_cli = _setting(project, explicit="store")
    from_url = _setting(project, explicit="file:///mnt/team/")

    assert from_file == RemoteSetting(f"file://{repo.parent / 'shared-clips'}", str(config))
    assert from_cli == RemoteSetting(f"file://{project.parent / 'store'}", "--remote")
    assert from_url == RemoteSetting("file:///mnt/team", "--remote")


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        (
            "[remote]\nurl = s3://x\n",
            "2: not valid TOML: Invalid value (column 7)",
            f"Fix the TOML syntax; the file should look like:\n{EXAMPLE}",
        ),
        (
            '# team store\n[remote]\nuri = "s3://x/y"\n',
            "3: remote.uri: unknown setting",
            f"Did you mean 'url'? [remote] takes url and claim_timeout:\n{EXAMPLE}",
        ),
        (
            '[remotes]\nurl = "s3://x/y"\n',
            "1: remotes: unknown setting",
            f"Did you mean 'remote'? rdpipe.toml holds only a [remote] table:\n{EXAMPLE}",
        ),
        (
            "[remote]\nclaim_timeout = 60\nurl = 5\n",
            "3: remote.url: must be a string, not an integer",
            'Quote the URL: url = "s3://bucket/prefix"',
        ),
        (
            'remote.url = "ftp://host/clips"\n',
            "1: remote.url: 'ftp://' is not a supported store (ftp://host/clips)",
            "Use file://, s3://, gs://, az://, ssh:// (or sftp://) followed by where the store "
            "lives, or a folder path.",
        ),
        (
            '[remote]\nurl = "s3://"\n',
            "2: remote.url: s3:// names no place after 's3://'",
            "Add the bucket or folder, as in s3://team-clips/rdpipe.",
        ),
        (
            '[remote]\nurl = "s3://x/y"\n\nclaim_timeout = -5\n',
            "4: remote.claim_timeout: must be a number of seconds from 5 to 86400 (24 hours), "
            "not -5",
            "For example: claim_timeout = 600 (ten minutes without a heartbeat).",
        ),
        (
            '[remote]\nclaim_timeout = "ten minutes"\n',
            "2: remote.claim_timeout: must be a number of seconds from 5 to 86400 (24 hours), "
            "not 'ten minutes'",
            "For example: claim_timeout = 600 (ten minutes without a heartbeat).",
        ),
        (
            'remote = "s3://x/y"\n',
            "1: remote: must be a table, not a string",
            EXAMPLE,
        ),
    ],
    ids=[
        "syntax",
        "unknown-key",
        "unknown-table",
        "url-not-string",
        "scheme",
        "no-bucket",
        "negative-timeout",
        "timeout-not-number",
        "remote-not-table",
    ],
)
def test_a_bad_rdpipe_toml_names_file_line_and_setting(
    project: Path, text: str, message: str, hint: str
) -> None:
    """Each mistake in rdpipe.toml: file:line: field: problem, a hint, exit code 2."""
    config = project.parent / "rdpipe.toml"
    config.write_text(text)

    with pytest.raises(RemoteConfigInvalid) as caught:
        _setting(project)

    assert str(caught.value) == f"{config}:{message}\n{hint}"
    assert caught.value.exit_code == ExitCode.INVALID_INPUT


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("nan", "nan"),
        ("inf", "inf"),
        ("-inf", "-inf"),
        ("1e308", "1e+308"),
        ("86401", "86401"),
        ("4.9", "4.9"),
        ("0", "0"),
        ("true", "a boolean"),
    ],
)
def test_a_claim_timeout_outside_5_s_to_24_h_is_refused(
    project: Path, written: str, shown: str
) -> None:
    """nan, inf, huge and tiny timeouts (a claim that never goes stale, or beats too often for
    the store) are refused at their line with exit code 2."""
    config = project.parent / "rdpipe.toml"
    config.write_text(f'[remote]\nurl = "s3://x/y"\nclaim_timeout = {written}\n')

    with pytest.raises(RemoteConfigInvalid) as caught:
        _setting(project)

    assert str(caught.value) == (
        f"{config}:3: remote.claim_timeout: must be a number of seconds from 5 to 86400 "
        f"(24 hours), not {shown}\n"
        "For example: claim_timeout = 600 (ten minutes without a heartbeat)."
    )
    assert caught.value.exit_code == ExitCode.INVALID_INPUT


def test_claim_timeouts_at_the_bounds_are_accepted(project: Path) -> None:
    """5 s and 86400 s (24 h) are within the range, as integers or floats."""
    config = project.parent / "rdpipe.toml"
    for written, seconds in [("5", 5.0), ("86400", 86400.0), ("5.0", 5.0), ("86_400.0", 86400.0)]:
        config.write_text(f'[remote]\nurl = "s3://x/y"\nclaim_timeout = {written}\n')
        assert _setting(project) == RemoteSetting("s3://x/y", str(config), seconds)


def test_a_broken_rdpipe_toml_is_an_error_even_with_remote_given(project: Path) -> None:
    """The rdpipe.toml beside a pipeline is always read: --remote does not hide its mistakes."""
    (project.parent / "rdpipe.toml").write_text("[remote]\nurl = 's3://x/y'\nclaim_timout = 5\n")

    with pytest.raises(RemoteConfigInvalid, match=r":3: remote.claim_timout: unknown setting"):
        _setting(project, explicit="s3://cli/x")


@pytest.mark.parametrize(
    ("explicit", "environ", "message"),
    [
        (
            "http://example.com/clips",
            {},
            "--remote: 'http://' is not a supported store (http://example.com/clips)",
        ),
        (None, {"RDPIPE_REMOTE": "gs:///"}, "RDPIPE_REMOTE: gs:/// names no place after 'gs://'"),
        ("  ", {}, "--remote: the store URL is empty"),
    ],
    ids=["cli-scheme", "env-no-bucket", "cli-empty"],
)
def test_a_bad_url_outside_a_file_names_where_it_came_from(
    project: Path, explicit: str | None, environ: dict[str, str], message: str
) -> None:
    """A bad --remote or RDPIPE_REMOTE is named as such, with exit code 2."""
    with pytest.raises(RemoteConfigInvalid) as caught:
        _setting(project, explicit=explicit, environ=environ)

    assert str(caught.value).split("\n")[0] == message
    assert caught.value.exit_code == ExitCode.INVALID_INPUT


def test_every_supported_scheme_is_accepted(project: Path) -> None:
    """file, s3, gs/gcs, az/abfs and ssh/sftp URLs pass through (schemes lowercased, no
    trailing slash)."""
    for url in ["s3://b/p", "gs://b/p", "gcs://b/p", "az://c/p", "abfs://c/p", "s3://bucket"]:
        assert _setting(project, explicit=url) == RemoteSetting(url, "--remote")
        assert _setting(project, explicit=f"{url}/") == RemoteSetting(url, "--remote")
    assert _setting(project, explicit="SSH://host/srv/clips") == RemoteSetting(
        "ssh://host/srv/clips", "--remote"
    )
    assert _setting(project, explicit="sftp://u@host:2222/clips") == RemoteSetting(
        "sftp://u@host:2222/clips", "--remote"
    )


@pytest.mark.parametrize(
    ("url", "problem", "hint"),
    [
        (
            "s3:/team/rd",
            "'s3:/team/rd' is not a store URL: 's3:' must be followed by '//'",
            "Write s3://team/rd.",
        ),
        (
            "gs:bucket",
            "'gs:bucket' is not a store URL: 'gs:' must be followed by '//'",
            "Write gs://bucket.",
        ),
        (
            "SFTP:host/srv",
            "'SFTP:host/srv' is not a store URL: 'sftp:' must be followed by '//'",
            "Write sftp://host/srv.",
        ),
        (
            "file:clips",
            "'file:clips' is not a folder URL: 'file:' takes an absolute path",
            "Write the folder as a plain path, or as file:///abs/path.",
        ),
        (
            "team:clips",
            "'team:clips' looks like a URL of an unknown kind ('team:'), not a folder",
            "Use file://, s3://, gs://, az://, ssh:// (or sftp://) followed by where the store "
            "lives, or a folder path. A folder whose name holds ':' is written ./team:clips.",
        ),
        (
            "file://tmp/x",
            "file://tmp/x names /x on the host 'tmp', not a folder of this machine",
            "Write file:///tmp/x (three slashes) for the folder /tmp/x.",
        ),
        (
            "file://nas.local/",
            "file://nas.local/ names / on the host 'nas.local', not a folder of this machine",
            "Write file:///nas.local (three slashes) for the folder /nas.local.",
        ),
        (
            "s3://team/rd?versionId=3",
            "s3://team/rd?versionId=3 has a query ('?versionId=3'); a store URL takes none",
            "Write s3://team/rd: the back-end's options and credentials come from its own "
            "settings (such as AWS_PROFILE), never from the URL.",
        ),
        (
            "gs://team/rd/#v2",
            "gs://team/rd/#v2 has a fragment ('#v2'); a store URL takes none",
            "Write gs://team/rd: the back-end's options and credentials come from its own "
            "settings (such as AWS_PROFILE), never from the URL.",
        ),
        (
            "file:///mnt/team?rw",
            "file:///mnt/team?rw has a query ('?rw'); a store URL takes none",
            "Write file:///mnt/team, or the folder as a plain path (a path may hold '?' and '#').",
        ),
        (
            "file:/mnt/team#x",
            "file:/mnt/team#x has a fragment ('#x'); a store URL takes none",
            "Write file:///mnt/team, or the folder as a plain path (a path may hold '?' and '#').",
        ),
        (
            "s3://team//rd",
            "s3://team//rd has an empty path segment ('//')",
            "Write s3://team/rd.",
        ),
        ("s3:///team", "s3:///team has an empty path segment ('//')", "Write s3://team."),
        (
            "file:////mnt//team",
            "file:////mnt//team has an empty path segment ('//')",
            "Write file:///mnt/team.",
        ),
        (
            "memory://rdpipe",
            "'memory://' is not a supported store (memory://rdpipe)",
            "Use file://, s3://, gs://, az://, ssh:// (or sftp://) followed by where the store "
            "lives, or a folder path.",
        ),
        (
            "file://",
            "file:// names no place after 'file://'",
            "Add the bucket or folder, as in file:///mnt/team/rdpipe.",
        ),
    ],
    ids=[
        "one-slash",
        "no-slash",
        "no-slash-upper",
        "file-relative",
        "unknown-no-slash",
        "file-host",
        "file-host-only",
        "query",
        "fragment",
        "file-query",
        "file-one-slash-fragment",
        "empty-segment",
        "empty-bucket",
        "file-empty-segment",
        "memory",
        "file-nothing",
    ],
)
def test_a_url_that_is_not_unambiguous_is_refused_where_it_was_set(
    project: Path, url: str, problem: str, hint: str
) -> None:
    """A mistyped URL never becomes a folder: --remote, RDPIPE_REMOTE and rdpipe.toml:line
    each refuse it, exit code 2, with the URL to write instead; no folder is made."""
    config = project.parent / "rdpipe.toml"
    config.write_text(f'# the team\'s store\n[remote]\nurl = "{url}"\n')
    sources: list[tuple[str | None, dict[str, str], str]] = [
        (url, {}, f"--remote: {problem}"),
        (None, {"RDPIPE_REMOTE": url}, f"RDPIPE_REMOTE: {problem}"),
        (None, {}, f"{config}:3: remote.url: {problem}"),
    ]
    for explicit, environ, message in sources:
        with pytest.raises(RemoteConfigInvalid) as caught:
            _setting(project, explicit=explicit, environ=environ)

        assert str(caught.value) == f"{message}\n{hint}"
        assert caught.value.exit_code == ExitCode.INVALID_INPUT
    assert sorted(p.name for p in project.parent.iterdir()) == ["film.yaml", "rdpipe.toml"]


def test_folder_urls_of_this_machine_are_accepted(project: Path) -> None:
    """file:/abs, file:///abs, file://localhost/abs (escapes decoded) and a plain path holding
    ':' after './' all name a folder of this machine."""
    for url, folder in [
        ("file:/mnt/team/rd", "/mnt/team/rd"),
        ("file:/mnt/team/rd/", "/mnt/team/rd"),
        ("file:///mnt/team/rd/", "/mnt/team/rd"),
        ("FILE://LocalHost/mnt/team", "/mnt/team"),
        ("file:///mnt/team%20clips", "/mnt/team clips"),
        ("./team:clips", f"{project.parent}/team:clips"),
        ("/mnt/a:b", "/mnt/a:b"),
    ]:
        assert _setting(project, explicit=url) == RemoteSetting(f"file://{folder}", "--remote")
