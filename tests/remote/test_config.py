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
            "4: remote.claim_timeout: must be a number of seconds above 0, not -5",
            "For example: claim_timeout = 600 (ten minutes without a heartbeat).",
        ),
        (
            '[remote]\nclaim_timeout = "ten minutes"\n',
            "2: remote.claim_timeout: must be a number of seconds above 0, not 'ten minutes'",
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
    """file, s3, gs/gcs, az/abfs, ssh/sftp and memory URLs pass through (schemes lowercased)."""
    for url in ["s3://b/p", "gs://b/p", "gcs://b/p", "az://c/p", "abfs://c/p", "memory://t"]:
        assert _setting(project, explicit=url) == RemoteSetting(url, "--remote")
    assert _setting(project, explicit="SSH://host/srv/clips") == RemoteSetting(
        "ssh://host/srv/clips", "--remote"
    )
    assert _setting(project, explicit="sftp://u@host:2222/clips") == RemoteSetting(
        "sftp://u@host:2222/clips", "--remote"
    )
