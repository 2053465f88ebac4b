"""The one JSON vocabulary of ``--json`` (issue 16 §5): kinds, shot states, paths and errors.

Every JSON object rdpipe prints is a *document*: ``{"kind": ..., "version": 1, ...}``, where
``kind`` names what it is (:class:`Kind`) and ``version`` is :data:`VERSION`, raised when a key
changes meaning. ``schemas/output.schema.json`` describes each kind
(:mod:`rdpipe.cli.output_schema` writes it).

Shared by every kind:

- a shot's ``status`` is a :class:`ShotState` word, the same in ``plan``, ``status`` and
  ``run`` for the same shot (:func:`plan_state`, :func:`result_state`); ``outcome`` is an
  :class:`~rdpipe.scheduler.Outcome` word;
- a path is relative to the pipeline file's folder, with ``/`` separators
  (:func:`relative_path`); ``..`` when it lies outside. The one exception is the pipeline file
  itself where a command names it (``validate``, ``error``): as given on the command line;
- seconds are in keys ending ``_seconds`` (or ``seconds``); money is in the display currency
  named by the object's ``currency`` key, and quota units in keys ending ``_quota``;
- a command that fails under ``--json`` prints an ``error`` document on stdout
  (:func:`error_document`) besides the human text on stderr.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePath
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rdpipe.errors import Diagnostic, RdpipeError
    from rdpipe.plan import Job
    from rdpipe.scheduler import ShotResult
    from rdpipe.session.summary import RunSummary

#: The version of every document; raised when a key is removed or changes meaning.
VERSION = 1


class Kind(StrEnum):
    """What a document is: its ``kind`` key (one ``$defs`` entry each in the schema)."""

    PLAN = "plan"
    STATUS = "status"
    RUN_EVENT = "run.event"
    RUN_SUMMARY = "run.summary"
    MODELS = "models"
    COST = "cost"
    BALANCE = "balance"
    ASSETS = "assets"
    VALIDATE = "validate"
    ERROR = "error"


class ShotState(StrEnum):
    """Where a shot (one take) is: the ``status`` of a shot in ``plan``, ``status`` and ``run``.

    Before a run (``plan``, ``status``: :func:`plan_state`):

    - ``cached``: a verified clip for this request is on this disk (the plan's ``reuse``);
    - ``to generate``: nothing is known of this request; the next run submits it (``generate``);
    - ``failed``: its last attempt failed (refunded, or its input refused); ``action`` says
      whether the next run tries again (``generate``) or not (``refused``);
    - ``in flight``: a task was paid for and is followed, not paid again (``resume``);
    - ``to restore``: a clip made before (the lock file, the shared store) is fetched, not paid
      again (``restore``);
    - ``unknown``: an earlier submit has no known outcome; not resent (``blocked``);
    - ``generating elsewhere``: (``status`` only, which asks the shared store) another machine's
      run holds the shot's claim.

    During and after a run (``run.event``, ``run.summary``: :func:`result_state`), the
    scheduler's phases (:class:`rdpipe.scheduler.Phase`) as they are: ``waiting``,
    ``submitting``, ``generating``, ``downloading``, then one of ``done``, ``cached``,
    ``failed``, ``unknown``, ``in flight``, ``skipped`` (``on_failure: skip``), or
    ``not submitted`` (skipped with nothing sent).
    """

    CACHED = "cached"
    TO_GENERATE = "to generate"
    TO_RESTORE = "to restore"
    GENERATING_ELSEWHERE = "generating elsewhere"
    WAITING = "waiting"
    SUBMITTING = "submitting"
    GENERATING = "generating"
    DOWNLOADING = "downloading"
    DONE = "done"
    FAILED = "failed"
    UNKNOWN = "unknown"
    IN_FLIGHT = "in flight"
    SKIPPED = "skipped"
    NOT_SUBMITTED = "not submitted"


#: The state of a shot before a run, by the plan's action (``generate`` after a failed attempt
#: is ``failed``: :func:`plan_state`).
PLAN_STATES: Mapping[str, ShotState] = {
    "reuse": ShotState.CACHED,
    "generate": ShotState.TO_GENERATE,
    "resume": ShotState.IN_FLIGHT,
    "restore": ShotState.TO_RESTORE,
    "blocked": ShotState.UNKNOWN,
    "refused": ShotState.FAILED,
}


def plan_state(job: Job) -> ShotState:
    """The state a plan's ``job`` is in (:data:`PLAN_STATES`): ``failed`` for a job generating
    again after a failed attempt."""
    if job.failed_before:
        return ShotState.FAILED
    return PLAN_STATES[job.action.value]


def job_reason(job: Job, base: Path) -> str:
    """The plan's reason for ``job`` as ``--json`` says it: a cached clip named by its path
    relative to ``base`` (the pipeline file's folder), as the ``clip`` key names it, not to
    the output folder the run state records it under."""
    from rdpipe.plan import Action

    if (
        job.action is Action.REUSE
        and job.clip is not None
        and job.reason.startswith("cached clip ")
    ):
        return f"cached clip {relative_path(job.clip.path, base)}"
    return job.reason


def result_state(result: ShotResult) -> ShotState:
    """The state a run left a shot in: its phase, ``not submitted`` when skipped unsent."""
    from rdpipe.scheduler.results import shown_status

    return ShotState(shown_status(result))


def document(kind: Kind, body: Mapping[str, Any]) -> dict[str, Any]:
    """``{"kind": kind, "version": 1, **body}``: a document of ``kind``."""
    return {"kind": kind.value, "version": VERSION, **body}


def dumps(shown: Mapping[str, Any], *, indent: int | None = 2) -> str:
    """The text of a document: UTF-8 as is (no ``\\u`` escapes), indented unless ``None``
    (one line: ``run``'s JSON lines). Always valid UTF-8: a file name's bytes that are not
    UTF-8 are written ``\\xff`` in the string (:func:`~rdpipe.standard_streams.escape_undecodable`,
    as standard error shows them)."""
    return json.dumps(_valid_text(shown), indent=indent, ensure_ascii=False)


def _valid_text(value: Any) -> Any:
    """``value`` with every string (keys too) passed through ``escape_undecodable``."""
    from rdpipe.standard_streams import escape_undecodable

    if isinstance(value, str):
        return escape_undecodable(value)
    if isinstance(value, Mapping):
        return {_valid_text(key): _valid_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_valid_text(item) for item in value]
    return value


def relative_path(path: str | PurePath, base: Path) -> str:
    """``path`` relative to ``base`` (the pipeline file's folder), with ``/`` separators.

    A relative ``path`` is taken as relative to the working directory. A path on another drive
    (Windows), which cannot be made relative, stays absolute.
    """
    target = Path(path).absolute()
    try:
        relative = os.path.relpath(target, base.absolute())
    except ValueError:
        return target.as_posix()
    return PurePath(relative).as_posix()


def optional_path(path: str | PurePath | None, base: Path) -> str | None:
    """:func:`relative_path`, or ``None`` for no path."""
    return None if path is None else relative_path(path, base)


def error_code(error: BaseException) -> str:
    """The stable ``code`` of an error: its class name in snake_case (``PipelineInvalid`` ->
    ``pipeline_invalid``, ``UsageError`` -> ``usage_error``, as a bad option value is)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


def error_document(
    errors: Sequence[RdpipeError], *, exit_code: int, base: Path | None
) -> dict[str, Any]:
    """The ``error`` document of a command that failed with ``errors`` (one or more; the first
    whose exit code is the command's is ``error``; ``errors`` lists each). ``file``, ``line``
    and ``field`` come from the first diagnostic of a :class:`~rdpipe.errors.PipelineInvalid`
    (``null`` otherwise); files of diagnostics are made relative to ``base`` (the pipeline's
    folder; the working directory when ``None``). ``crash_log`` names a bug's crash log
    (:func:`_crash_log`), ``null`` for any other error."""
    folder = base if base is not None else Path.cwd()
    shown = [_error_object(error, folder) for error in errors]
    first = next(
        (item for item, error in zip(shown, errors, strict=True)
         if int(error.exit_code) == exit_code),
        shown[0],
    )  # fmt: skip
    return document(Kind.ERROR, {"error": {**first, "exit_code": exit_code}, "errors": shown})


def usage_error_document(
    message: str, *, exit_code: int, field: str | None = None
) -> dict[str, Any]:
    """The ``error`` document of a command-line usage error (a bad option value, an unknown
    option, a missing argument): exit 2; ``field`` is the option (``--concurrency``) or
    argument (``FILE``) it is about, ``null`` when none is named."""
    error = {"code": "usage_error", "message": message, "exit_code": exit_code,
             "file": None, "line": None, "field": field, "diagnostics": [],
             "crash_log": None}  # fmt: skip
    return document(Kind.ERROR, {"error": error, "errors": [error]})


def diagnostic_object(diagnostic: Diagnostic, base: Path) -> dict[str, Any]:
    """A diagnostic as JSON: its file relative to ``base`` (``--set`` as is), line and column
    (1-based; ``null`` when unknown), field path, message and severity."""
    file = diagnostic.file
    return {
        "file": file if file.startswith("--") else relative_path(file, base),
        "line": diagnostic.line or None,
        "column": diagnostic.column or None,
        "field": diagnostic.field or None,
        "message": diagnostic.message,
        "severity": diagnostic.severity,
    }


def _error_object(error: RdpipeError, base: Path) -> dict[str, Any]:
    from rdpipe.errors import PipelineInvalid

    diagnostics: list[dict[str, Any]] = []
    if isinstance(error, PipelineInvalid):
        diagnostics = [diagnostic_object(d, base) for d in error.diagnostics + error.warnings]
    where = diagnostics[0] if diagnostics else {}
    return {
        "code": error_code(error),
        "message": str(error),
        "exit_code": int(error.exit_code),
        "file": where.get("file"),
        "line": where.get("line"),
        "field": where.get("field"),
        "diagnostics": diagnostics,
        "crash_log": _crash_log(error, base),
    }


def _crash_log(error: RdpipeError, base: Path) -> str | None:
    """The crash log a bug's report names (:class:`rdpipe.cli.crash.CrashReport`): relative to
    ``base`` (the pipeline's folder) when inside it (``.rdpipe/crash-....log``), else absolute
    (the user's cache folder, which ``..`` steps would only obscure); ``None`` for no log."""
    log = getattr(error, "log", None)
    if not isinstance(log, PurePath):
        return None
    if Path(log).absolute().is_relative_to(base.absolute()):
        return relative_path(log, base)
    return Path(log).absolute().as_posix()


def validate_entry(
    file: Path,
    diagnostics: Sequence[Diagnostic],
    shots: int | None,
    *,
    included_by: Sequence[Path] = (),
) -> dict[str, Any]:
    """One file of ``validate --json``: ``pipeline`` as given on the command line, ``ok``,
    ``shots`` (how many; ``null`` when it does not load; 0 for a fragment), its ``errors`` and
    ``warnings`` (:func:`diagnostic_object`, relative to the file's folder), ``fragment``
    (whether it was checked as a fragment other pipelines include) and ``included_by`` (every
    file found including it, relative to the fragment's folder as the text output says them;
    ``[]`` for a pipeline)."""
    base = file.absolute().parent
    shown = [diagnostic_object(d, base) for d in diagnostics]
    errors = [d for d in shown if d["severity"] == "error"]
    return {
        "pipeline": PurePath(file).as_posix(),
        "ok": not errors,
        "shots": shots,
        "fragment": bool(included_by),
        "included_by": [relative_path(path, file.resolve().parent) for path in included_by],
        "errors": errors,
        "warnings": [d for d in shown if d["severity"] != "error"],
    }


class ModelsChecked(StrEnum):
    """What ``validate`` checked model ids against: its ``models_checked`` key."""

    ONLINE = "online"  # the server's model list (``--online``, read)
    CATALOG = "catalog"  # rdpipe's own catalog: no --online, or the list could not be read


def validate_document(
    entries: Sequence[Mapping[str, Any]],
    *,
    models_checked: ModelsChecked = ModelsChecked.CATALOG,
    models_note: str | None = None,
) -> dict[str, Any]:
    """The ``validate`` document: ``ok`` when every file is, each file's entry,
    ``models_checked`` (:class:`ModelsChecked`) and ``models_note``: why the server's list was
    not used although ``--online`` asked for it (the note stderr gives), else ``null``."""
    return document(Kind.VALIDATE, {
        "ok": all(entry["ok"] for entry in entries),
        "models_checked": models_checked.value,
        "models_note": models_note,
        "files": list(entries),
    })  # fmt: skip


@dataclass(frozen=True)
class JsonLinesTarget:
    """Where ``run --json`` writes its JSON lines (``stream``: standard output), and the
    pipeline file's folder its paths are relative to (``base``)."""

    stream: IO[str]
    base: Path


def summary_document(summary: RunSummary, base: Path) -> dict[str, Any]:
    """The ``run.summary`` document that ends ``run --json``: ``output`` (the video, the first
    deliverable's), ``deliverables`` (each one's name and video, in file order) and each
    shot's ``clip`` relative to ``base``, the pipeline file's folder; each shot's ``status`` its
    :class:`ShotState` and ``outcome`` its :class:`~rdpipe.scheduler.Outcome`, its
    ``rendition`` (``""`` the storyboard's clip, ``"draft"``, or a deliverable's name) and
    ``label`` (``kite:draft#2``, as the run's lines name it); the counts are of shots (takes),
    ``outcomes`` one count per outcome code."""
    from rdpipe.scheduler import Phase

    labels = {(job.shot.id, job.shot.rendition, job.shot.take): job.shot.label
              for job in summary.plan.jobs}  # fmt: skip
    return document(Kind.RUN_SUMMARY, {
        "pipeline": summary.pipeline,
        "output": optional_path(summary.output, base),
        "deliverables": [
            {"name": name, "path": optional_path(path, base)}
            for name, path in summary.deliverables
        ],
        "shots": [
            {
                "id": result.shot_id,
                "take": result.take,
                "rendition": result.rendition,
                "label": labels.get(
                    (result.shot_id, result.rendition, result.take), _label(result)
                ),
                "status": result_state(result).value,
                "outcome": result.outcome.value,
                "task_id": result.task_id,
                "clip": optional_path(result.clip.path if result.clip else None, base),
                "cached": result.phase is Phase.CACHED,
                "message": result.message,
            }
            for result in summary.results
        ],
        "submitted": summary.submitted,
        "resumed": summary.resumed,
        "reused": summary.reused,
        "failed": summary.failed,
        "skipped": summary.skipped,
        "not_submitted": summary.not_submitted,
        "unknown": summary.unknown,
        "in_flight": summary.in_flight,
        "outcomes": summary.outcomes(),
    })  # fmt: skip


def _label(result: ShotResult) -> str:
    """A result's label when the plan has no job of it: ``kite:draft#2``, ``kite#2``, or
    ``kite`` for take 1 (its number of takes is not known here)."""
    name = f"{result.shot_id}:{result.rendition}" if result.rendition else result.shot_id
    return name if result.take == 1 else f"{name}#{result.take}"
