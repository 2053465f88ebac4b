"""The RelayDance client: the only part of rdpipe that talks HTTP.

Public names are re-exported here; the modules behind them are implementation.
"""

from __future__ import annotations

from rdpipe.client.balance import Balance
from rdpipe.client.client import RelayDanceClient
from rdpipe.client.config import (
    ApiKey,
    ClientConfig,
    InvalidApiKey,
    InvalidBaseUrl,
    InvalidMediaUrl,
    MissingApiKey,
    Timeouts,
)
from rdpipe.client.download import DownloadedClip, ProgressCallback
from rdpipe.client.errors import (
    ApiError,
    AssetNotFound,
    AuthenticationFailed,
    BalanceUnavailable,
    ConcurrencyLimitReached,
    DownloadIncomplete,
    GateUnavailable,
    InvalidRequest,
    LinkExpired,
    MalformedResponse,
    MediaHostUnreachable,
    ModelNotServed,
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
    UploadFailed,
    UploadRefused,
    UploadSourceChanged,
)
from rdpipe.client.http import Transport
from rdpipe.client.media import AssetState, UploadSlot, UploadSource
from rdpipe.client.retry import RetryPolicy
from rdpipe.client.shapes import ModelEntry, TaskState, TaskStatus
from rdpipe.client.testing import RecordingClock
from rdpipe.client.upload import ProgressReport

__all__ = [
    "ApiError",
    "ApiKey",
    "AssetNotFound",
    "AssetState",
    "AuthenticationFailed",
    "Balance",
    "BalanceUnavailable",
    "ClientConfig",
    "ConcurrencyLimitReached",
    "DownloadIncomplete",
    "DownloadedClip",
    "GateUnavailable",
    "InvalidApiKey",
    "InvalidBaseUrl",
    "InvalidMediaUrl",
    "InvalidRequest",
    "LinkExpired",
    "MalformedResponse",
    "MediaHostUnreachable",
    "MissingApiKey",
    "ModelEntry",
    "ModelNotServed",
    "NoAnswer",
    "NotSent",
    "ProgressCallback",
    "ProgressReport",
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
    "UploadFailed",
    "UploadRefused",
    "UploadSlot",
    "UploadSource",
    "UploadSourceChanged",
]
