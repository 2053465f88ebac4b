"""The shared clip store: a team's clips, their index by request key, and claims (issue 13).

A layer of its own (after ``state``, before ``plan``), built on fsspec: ``file://``, ``s3://``,
``gs://``, ``az://`` and ``ssh://`` stores, each back-end an optional extra (``rdpipe[s3]``).
Importing this package imports no fsspec: :func:`open_shared_store` loads the back-end.

- :func:`find_remote_setting`: where the store is set (``--remote``, ``RDPIPE_REMOTE``,
  ``rdpipe.toml``), as a :class:`RemoteSetting`;
- :func:`open_shared_store` -> :class:`SharedClipStore`: ``lookup``/``lookup_many`` (the
  index), ``has_clip``, ``pull``, ``push``, ``claim``/``heartbeat``/``release``, and
  ``publish_media`` (a local media file as a presigned URL, :class:`PublishedMedia`).

Every store method blocks: call it from a worker thread.
"""

from __future__ import annotations

from .backends import publish_refusal
from .claims import Claim, HeldBy
from .config import ENVIRONMENT_VARIABLE, RemoteSetting, find_config_file, find_remote_setting
from .config_file import CONFIG_FILE_NAME, DEFAULT_CLAIM_TIMEOUT
from .entries import IndexEntry
from .errors import (
    CannotPublish,
    LocalClipMismatch,
    LocalMediaMismatch,
    RemoteBackendMissing,
    RemoteClipCorrupt,
    RemoteClipMissing,
    RemoteConfigInvalid,
    RemoteError,
    RemoteUnavailable,
    SharedFolderMissing,
)
from .publishing import PublishedMedia
from .store import SharedClipStore, open_shared_store
from .transfer import Progress
from .urls import SCHEMES, normalize_url

__all__ = [
    "CONFIG_FILE_NAME",
    "DEFAULT_CLAIM_TIMEOUT",
    "ENVIRONMENT_VARIABLE",
    "SCHEMES",
    "CannotPublish",
    "Claim",
    "HeldBy",
    "IndexEntry",
    "LocalClipMismatch",
    "LocalMediaMismatch",
    "Progress",
    "PublishedMedia",
    "RemoteBackendMissing",
    "RemoteClipCorrupt",
    "RemoteClipMissing",
    "RemoteConfigInvalid",
    "RemoteError",
    "RemoteSetting",
    "RemoteUnavailable",
    "SharedClipStore",
    "SharedFolderMissing",
    "find_config_file",
    "find_remote_setting",
    "normalize_url",
    "open_shared_store",
    "publish_refusal",
]
