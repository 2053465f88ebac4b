"""Run state: the journal of paid submits, the clip cache index, the run guard and the lock file.

The scheduler records a submit intent before each POST and the task id the moment it returns,
so a rerun after a crash resumes polling instead of paying twice. Everything here is plain
stdlib (SQLite in WAL mode, atomic renames from :mod:`rdpipe.files`) and :mod:`filelock`.
"""

from __future__ import annotations

from ._clips import (
    ClipCheck,
    ClipProblem,
    ClipStore,
    IncomingClip,
    MediaCheck,
    StoredClip,
    clip_folder,
    clip_place,
    hash_file,
)
from ._errors import (
    LockFileConflicted,
    LockFileInvalid,
    LockFileTooNew,
    RunBusy,
    StateError,
    StateSchemaMismatch,
    StateUnreadable,
    StateWriteFailed,
    TaskReissued,
)
from ._guard import RunGuard
from ._lock_entries import LOCK_VERSION, ShotLock, TakeCost, TakeLock
from ._lock_reader import parse_lock
from ._lockfile import LockFile, kept_takes, lock_shot, render_lock
from ._paths import CACHE_DIR_NAME, StatePaths, prepare_state_dir
from ._pushes import PushedClips
from ._records import (
    ClipFile,
    ClipRecord,
    CostEstimate,
    DisplayCurrency,
    HostedRecord,
    IntentOutcome,
    IntentRecord,
    PortraitRecord,
    RecordedTaskState,
    RunHolder,
    RunRecord,
    ShotState,
    TaskRecord,
)
from ._redact import redact_request, redact_url
from ._schema import SCHEMA_VERSION
from ._store import StateStore
from ._verdicts import MediaVerdict, MediaVerdicts

__all__ = [
    "CACHE_DIR_NAME",
    "LOCK_VERSION",
    "SCHEMA_VERSION",
    "ClipCheck",
    "ClipFile",
    "ClipProblem",
    "ClipRecord",
    "ClipStore",
    "CostEstimate",
    "DisplayCurrency",
    "HostedRecord",
    "IncomingClip",
    "IntentOutcome",
    "IntentRecord",
    "LockFile",
    "LockFileConflicted",
    "LockFileInvalid",
    "LockFileTooNew",
    "MediaCheck",
    "MediaVerdict",
    "MediaVerdicts",
    "PortraitRecord",
    "PushedClips",
    "RecordedTaskState",
    "RunBusy",
    "RunGuard",
    "RunHolder",
    "RunRecord",
    "ShotLock",
    "ShotState",
    "StateError",
    "StatePaths",
    "StateSchemaMismatch",
    "StateStore",
    "StateUnreadable",
    "StateWriteFailed",
    "StoredClip",
    "TakeCost",
    "TakeLock",
    "TaskRecord",
    "TaskReissued",
    "clip_folder",
    "clip_place",
    "hash_file",
    "kept_takes",
    "lock_shot",
    "parse_lock",
    "prepare_state_dir",
    "redact_request",
    "redact_url",
    "render_lock",
]
