"""The RelayDance client: the only part of rdpipe that talks HTTP.

Public names are re-exported here; the modules behind them are implementation.
"""

from __future__ import annotations

from rdpipe.client.client import RelayDanceClient
from rdpipe.client.config import (
    ApiKey,
    ClientConfig,
    InvalidApiKey,
    InvalidBaseUrl,
    MissingApiKey,
    Timeouts,
)
from rdpipe.client.download import DownloadedClip, ProgressCallback
from rdpipe.client.errors import (
    ApiError,
    AuthenticationFailed,
    DownloadIncomplete,
    InvalidRequest,
    LinkExpired,
    MalformedResponse,
    NoAnswer,
    NotSent,
    QuotaExceeded,
    RateLimited,
    RelayDanceError,
    RequestNotBuilt,
    ServerError,
    SubmitOutcomeUnknown,
    TaskNotFinished,
    TaskNotFound,
)
from rdpipe.client.http import Transport
from rdpipe.client.retry import RetryPolicy
from rdpipe.client.shapes import ModelEntry, TaskState, TaskStatus
from rdpipe.client.testing import RecordingClock

__all__ = [
    "ApiError",
    "ApiKey",
    "AuthenticationFailed",
    "ClientConfig",
    "DownloadIncomplete",
    "DownloadedClip",
    "InvalidApiKey",
    "InvalidBaseUrl",
    "InvalidRequest",
    "LinkExpired",
    "MalformedResponse",
    "MissingApiKey",
    "ModelEntry",
    "NoAnswer",
    "NotSent",
    "ProgressCallback",
    "QuotaExceeded",
    "RateLimited",
    "RecordingClock",
    "RelayDanceClient",
    "RelayDanceError",
    "RequestNotBuilt",
    "RetryPolicy",
    "ServerError",
    "SubmitOutcomeUnknown",
    "TaskNotFinished",
    "TaskNotFound",
    "TaskState",
    "TaskStatus",
    "Timeouts",
    "Transport",
]
