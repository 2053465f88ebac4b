"""Where the shared clip store is set: ``--remote``, ``RDPIPE_REMOTE``, or an ``rdpipe.toml``.

The store is never named in the pipeline file: where clips are shared must not change a shot's
cache key (issue 13, section 2). The first of these wins:

1. an explicit URL (the CLI's ``--remote URL``);
2. the environment variable ``RDPIPE_REMOTE`` (empty counts as unset);
3. ``rdpipe.toml`` beside the pipeline file or in a parent folder, up to the repository root
   (the first folder upwards holding ``.git``; without one, up to the file system's root)::

       [remote]
       url = "s3://bucket/prefix"
       claim_timeout = 600   # seconds a claim lives without a heartbeat (optional)

The ``rdpipe.toml`` found is read (and must be valid) whichever source names the URL: its
``claim_timeout`` applies to every run beside it. What a URL may be is
:mod:`rdpipe.remote.urls`' to say: a folder path is relative to the ``rdpipe.toml`` that names it
(or to the working directory), and every URL comes back with its scheme (``file:///abs/path``);
one that does not name a store unambiguously (``s3:/team/rd``) is refused. Credentials never
appear here: each back-end takes them from its own standard places (AWS profiles and
variables, gcloud, Azure, ssh-agent).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .config_file import CONFIG_FILE_NAME, DEFAULT_CLAIM_TIMEOUT, read_config_file
from .urls import normalize_url

ENVIRONMENT_VARIABLE = "RDPIPE_REMOTE"
EXPLICIT_SOURCE = "--remote"


@dataclass(frozen=True)
class RemoteSetting:
    """The shared store this run uses: its URL (with a scheme), where that was set, and how
    long (seconds) a claim lives without a heartbeat before another run may take it over.

    ``source`` is ``"--remote"``, ``"RDPIPE_REMOTE"`` or the path of the ``rdpipe.toml``.
    """

    url: str
    source: str
    claim_timeout: float = DEFAULT_CLAIM_TIMEOUT


def find_remote_setting(
    pipeline_file: Path, *, explicit: str | None, environ: Mapping[str, str], cwd: Path
) -> RemoteSetting | None:
    """The shared store for ``pipeline_file``, or ``None`` when none is set anywhere.

    ``pipeline_file`` and plain-path URLs from ``--remote`` or the environment are taken
    relative to ``cwd``. Raises :class:`RemoteConfigInvalid` (exit code 2) for a bad
    ``rdpipe.toml`` (with its line and field) or a URL that does not name a store
    unambiguously (:func:`rdpipe.remote.urls.normalize_url`), naming where it was set.
    """
    config_path = find_config_file((cwd / pipeline_file).parent)
    config = read_config_file(config_path) if config_path is not None else None
    timeout = config.claim_timeout if config is not None else DEFAULT_CLAIM_TIMEOUT
    if explicit is not None:
        url = normalize_url(explicit, base=cwd, source=EXPLICIT_SOURCE)
        return RemoteSetting(url, EXPLICIT_SOURCE, timeout)
    from_environment = environ.get(ENVIRONMENT_VARIABLE, "")
    if from_environment:
        url = normalize_url(from_environment, base=cwd, source=ENVIRONMENT_VARIABLE)
        return RemoteSetting(url, ENVIRONMENT_VARIABLE, timeout)
    if config is None or config_path is None or config.url is None:
        return None
    url = normalize_url(
        config.url, base=config_path.parent, source=str(config_path), line=config.url_line
    )
    return RemoteSetting(url, str(config_path), timeout)


def find_config_file(folder: Path) -> Path | None:
    """The ``rdpipe.toml`` in ``folder`` or the nearest parent, not above the repository root.

    The repository root is the first folder upwards holding ``.git`` (a folder, or a file as in
    a worktree); without one the search goes up to the file system's root.
    """
    for candidate in (folder, *folder.parents):
        path = candidate / CONFIG_FILE_NAME
        if path.is_file():
            return path
        if (candidate / ".git").exists():
            return None
    return None
