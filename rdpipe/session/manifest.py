"""``manifest.json``: what a run made, per shot and take, for people, the review page and tools.

Paths in it are relative to its own directory. It holds each take's request with data URLs
reduced to hashes and signed URLs stripped, never a secret. During a run it is rewritten at
most once a second so the review page can show progress. Each take says what it cost
(:class:`~rdpipe.session.bills.TakeBill`: ``currency``, ``precharge``, ``expected_cost``,
``settled_cost``, ``refunded``, and the same in quota units); the final manifest fills them.

Drafts (issue 17): each take says its ``label`` (``kite:draft#2``), its ``rendition`` (``""``
the storyboard's clip, a drafted shot's final; ``"draft"``; or the deliverable it was
regenerated for) and ``from_draft`` (the draft take a drafted shot's final or regeneration
renders again; else null). A drafted shot (``"drafted": true``) is picked among its draft
takes (``picked``); its outcome, model and settings at a glance are its final's once there
is one (its drafts' before).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rdpipe.files import write_atomically
from rdpipe.plan import Plan
from rdpipe.prepare.pipeline import PreparedPipeline
from rdpipe.redaction import Redactor
from rdpipe.render import DRAFT
from rdpipe.request import Metadata
from rdpipe.scheduler import (
    Outcome,
    Phase,
    Reporter,
    ShotResult,
    ShotUpdate,
    picked_result,
)
from rdpipe.session.bills import NO_BILL, TakeBill
from rdpipe.state import redact_request

MANIFEST_VERSION = 2


@dataclass(frozen=True)
class TakeView:
    """The latest known state of one take, as the manifest writes it."""

    status: str = Phase.WAITING.value
    task_id: str | None = None
    clip: str | None = None  # the stored clip's relative path (StoredClip.relative)
    seed: int | None = None
    duration: float | None = None
    message: str | None = None

    @classmethod
    def of(cls, result: ShotResult) -> TakeView:
        return cls(
            result.phase.value,
            result.task_id,
            result.clip.relative if result.clip else None,
            result.seed,
            result.duration,
            result.message,
        )


class ManifestBuilder:
    """Builds manifest documents for one plan; the parts that do not change are built once.

    Each take's message goes through ``redactor``, the command's: no secret a reason quotes is
    written to the manifest.
    """

    def __init__(self, prepared: PreparedPipeline, plan: Plan, redactor: Redactor) -> None:
        self._prepared = prepared
        self._redactor = redactor
        self._shots: dict[str, dict[str, Any]] = {}
        self._takes: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._picks: dict[str, int | None] = {}
        drafted = {job.shot.id for job in plan.jobs if job.shot.rendition == DRAFT}
        for job in plan.jobs:
            rendered = job.shot
            if rendered.id not in self._shots:
                entry = _shot_entry(prepared, rendered.index)
                entry["prompt"] = rendered.request.prompt
                entry["model"] = rendered.model
                entry["seconds"] = rendered.seconds
                entry["settings"] = _settings(rendered.request.metadata)
                entry["caption"] = rendered.caption
                entry["drafted"] = rendered.id in drafted
                self._shots[rendered.id] = entry
                self._takes[rendered.id] = []
                self._picks[rendered.id] = rendered.pick
            request = redact_request(rendered.request).to_json()
            final = rendered.id in drafted and rendered.rendition != DRAFT
            from_draft = rendered.from_take if final else None
            if final and not rendered.rendition:  # the shot as asked: its final, not a draft
                shown = {"model": rendered.model, "settings": _settings(rendered.request.metadata)}
                self._shots[rendered.id].update(shown)
            static = {"take": rendered.take, "key": job.key, "request": request,
                      "label": rendered.label, "rendition": rendered.rendition,
                      "from_draft": from_draft}  # fmt: skip
            self._takes[rendered.id].append((rendered.label, static))

    def document(
        self,
        takes: Mapping[str, TakeView],
        *,
        video: str | None,
        contact_sheet: str | None,
        running: bool,
        now: float,
        bills: Mapping[str, TakeBill] | None = None,
        deliverables: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """The manifest for the given state of each take (by label); ``bills``: what each
        take cost (by label; a take without one has its cost fields null); ``deliverables``:
        each deliverable's video built (``name``, ``path``), listed as they are."""
        shots = []
        bills = bills or {}
        for shot_id, static in self._shots.items():
            entry = {**static, "takes": []}
            for label, take in self._takes[shot_id]:
                view = takes.get(label, TakeView())
                message = self._redactor.redact_optional(view.message)
                bill = bills[label].manifest_fields() if label in bills else NO_BILL
                entry["takes"].append({"take": take["take"], "label": take["label"],
                                       "rendition": take["rendition"],
                                       "from_draft": take["from_draft"], "key": take["key"],
                                       **view.__dict__, "message": message, **bill,
                                       "request": take["request"]})  # fmt: skip
            # A drafted shot is picked among its drafts; any other among its storyboard takes.
            picking = DRAFT if static["drafted"] else ""
            pickable = [t for t in entry["takes"] if t["rendition"] == picking]
            results = [
                _picking_result(shot_id, t["key"], Phase(t["status"]), t["take"]) for t in pickable
            ]
            chosen = picked_result(results, self._picks[shot_id])
            entry["picked"] = chosen.take if chosen is not None else None
            # The shot's outcome at a glance: a drafted shot's final once it has one, else the
            # take the storyboard uses, else the first one.
            final = [t for t in entry["takes"] if static["drafted"] and t["rendition"] == ""]
            main = final[0] if final else pickable[(entry["picked"] or 1) - 1]
            for name in ("status", "key", "task_id", "clip", "seed", "duration", "message"):
                entry[name] = main[name]
            shots.append(entry)
        return {
            "pipeline": self._prepared.loaded.pipeline.name,
            "version": MANIFEST_VERSION,
            "pipeline_file": str(self._prepared.loaded.path),
            "video": video,
            "deliverables": list(deliverables),
            "contact_sheet": contact_sheet,
            "updated_at": now,
            "running": running,
            "shots": shots,
        }


def _shot_entry(prepared: PreparedPipeline, index: int) -> dict[str, Any]:
    shot = prepared.loaded.pipeline.shots[index]
    references = []
    for name in shot.references:
        reference = prepared.loaded.pipeline.references[name]
        references.append(
            {
                "name": name,
                "kind": reference.kind,
                "source": reference.source,
                "path": _local_path(
                    prepared, ("references", name, reference.kind), reference.source
                ),
            }
        )
    frames: dict[str, Any] = {}
    for role in ("first_frame", "last_frame"):
        frame = getattr(shot, role)
        if frame is None or isinstance(frame, str):
            where = ("shots", index, role)
            frames[role] = (
                None
                if frame is None
                else {"source": frame, "path": _local_path(prepared, where, frame)}
            )
        else:
            frames[role] = {"shot": frame.shot}
    return {"id": shot.id, "index": index, "references": references, **frames, "takes": []}


def _local_path(
    prepared: PreparedPipeline, where: tuple[str | int, ...], source: str
) -> str | None:
    if "://" in source or source.startswith("data:"):
        return None
    return str((prepared.loaded.base_dir(where) / source).resolve())


def _settings(metadata: Metadata) -> dict[str, Any]:
    """The shot's metadata as the manifest shows it: without its content and webhook."""
    shown = metadata.to_json()
    return {k: v for k, v in shown.items() if k not in ("content", "callback_url")}


def write_manifest(path: Path, document: Mapping[str, Any]) -> None:
    """Replace the manifest atomically; compact while the run goes on, indented at the end."""
    running = bool(document.get("running"))
    text = json.dumps(document, indent=None if running else 2, ensure_ascii=False) + "\n"
    write_atomically(path, text.encode("utf-8"), durable=not running)


class ManifestReporter:
    """Passes updates on, and keeps the manifest current during the run (at most once a second)."""

    def __init__(
        self,
        inner: Reporter,
        write: Callable[[Mapping[str, TakeView], bool], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 1.0,
    ) -> None:
        self._inner = inner
        self._write = write
        self._clock = clock
        self._interval = interval
        self._last = -interval
        self.takes: dict[str, TakeView] = {}

    def update(self, update: ShotUpdate) -> None:
        self._inner.update(update)
        view = self.takes.get(update.label, TakeView())
        self.takes[update.label] = replace(
            view,
            status=update.phase.value,
            task_id=update.task_id or view.task_id,
            clip=update.clip.relative if update.clip else view.clip,
            message=update.message,
        )
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            self._write(self.takes, True)


def _picking_result(shot_id: str, key: str, phase: Phase, take: int) -> ShotResult:
    """A take's result as far as picking the shot's take needs it (its phase)."""
    return ShotResult(shot_id, key, phase, take=take, outcome=Outcome.usual(phase))


def views_of(results: Sequence[ShotResult], plan: Plan) -> dict[str, TakeView]:
    """Each job's label mapped to the view of its final result."""
    return {
        job.shot.label: TakeView.of(result) for job, result in zip(plan.jobs, results, strict=True)
    }
