"""The JSON Schema of everything rdpipe prints with ``--json``, built from the vocabulary.

``schemas/output.schema.json`` is :func:`schema_text`'s output; a test fails when it is stale.
One ``$defs`` entry per :class:`~rdpipe.cli.machine_output.Kind` (its name with ``.`` as
``_``: ``run_event``), the shot states and outcome codes taken from the enums that print them,
so the schema cannot drift from the code.
"""

from __future__ import annotations

import json
from typing import Any

from rdpipe.cli.machine_output import VERSION, Kind, ModelsChecked, ShotState
from rdpipe.scheduler import Outcome

SCHEMA_ID = "https://github.com/rdpipe/rdpipe/schemas/output.schema.json"

_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_NUMBER = {"type": ["number", "null"]}
_NULLABLE_INTEGER = {"type": ["integer", "null"]}
_COUNT = {"type": "integer", "minimum": 0}
_NULLABLE_STRINGS = {"type": ["array", "null"], "items": {"type": "string"}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _nullable(name: str) -> dict[str, Any]:
    return {"anyOf": [_ref(name), {"type": "null"}]}


def _object(
    properties: dict[str, Any], required: list[str] | None = None, description: str = ""
) -> dict[str, Any]:
    shown: dict[str, Any] = {"type": "object", "properties": properties}
    shown["required"] = list(properties) if required is None else required
    shown["additionalProperties"] = False  # every key rdpipe prints is named: drift fails
    if description:
        shown["description"] = description
    return shown


def _document(kind: Kind, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A kind's document: ``kind`` (its constant), ``version`` and ``properties``."""
    head = {"kind": {"const": kind.value}, "version": {"const": VERSION}}
    return _object({**head, **properties}, description=description)


def _shared() -> dict[str, Any]:
    """The pieces every kind uses: states, outcomes, paths, diagnostics."""
    return {
        "shotState": {
            "description": "Where a shot (one take) is; the same word in plan, status and run "
            "(rdpipe.cli.machine_output.ShotState documents each).",
            "enum": [state.value for state in ShotState],
        },
        "outcome": {
            "description": "What became of a shot after a run (rdpipe.scheduler.Outcome).",
            "enum": [outcome.value for outcome in Outcome],
        },
        "path": {
            "description": "A path relative to the pipeline file's folder, '/' separators "
            "(never absolute: no leading '/', no drive letter).",
            "type": "string",
            "pattern": "^(?!/)(?![A-Za-z]:)",
        },
        "diagnostic": _object(
            {
                "file": {
                    "type": "string",
                    "description": "Relative to the pipeline's folder; "
                    "'--set' for a command-line value.",
                },
                "line": {**_NULLABLE_INTEGER, "description": "1-based; null when unknown."},
                "column": {**_NULLABLE_INTEGER, "description": "1-based; null when unknown."},
                "field": {**_NULLABLE_STRING, "description": "A field path: shots[2].seconds."},
                "message": {"type": "string"},
                "severity": {"enum": ["error", "warning"]},
            }
        ),
        "errorObject": _object(
            {
                "code": {
                    "type": "string",
                    "pattern": "^[a-z][a-z0-9_]*$",
                    "description": "Stable snake_case: the error's class name.",
                },
                "message": {
                    "type": "string",
                    "description": "What stderr says, in full (for a usage error, its "
                    "'Error:' line, without the usage and help lines around it).",
                },
                "exit_code": {"type": "integer"},
                "file": _NULLABLE_STRING,
                "line": _NULLABLE_INTEGER,
                "field": _NULLABLE_STRING,
                "diagnostics": {"type": "array", "items": _ref("diagnostic")},
                "crash_log": {
                    **_NULLABLE_STRING,
                    "description": "An unexpected error (a bug): its crash log, relative to "
                    "the pipeline's folder when inside it (.rdpipe/), else absolute (the "
                    "user's cache folder); null for any other error.",
                },
            }
        ),
    }


def _plan_shot() -> dict[str, Any]:
    money = {name: _NULLABLE_NUMBER for name in ("precharge", "expected_cost")}
    quota = {name: _NULLABLE_INTEGER for name in ("precharge_quota", "expected_quota")}
    return _object(
        {
            "id": {"type": "string"},
            "take": {"type": "integer", "minimum": 1},
            "rendition": {
                "type": "string",
                "description": "Which clip of the shot: '' the storyboard's (final), 'draft' a "
                "draft take, else the deliverable it is regenerated for.",
            },
            "label": {
                "type": "string",
                "description": "The clip as the run's lines name it: kite, kite#2, "
                "kite:draft#2, kite:vertical.",
            },
            "from_take": _NULLABLE_INTEGER,
            "key": {"type": "string"},
            "action": {"enum": ["generate", "resume", "reuse", "restore", "blocked", "refused"]},
            "status": _ref("shotState"),
            "reason": {"type": "string"},
            "request": {"type": "object"},
            **money,
            **quota,
        },
        description="Money in the document's currency; quota in the relay's units.",
    )


def _plan_money() -> dict[str, Any]:
    return {
        **{name: _NULLABLE_NUMBER for name in ("precharge", "expected_cost")},
        **{name: _NULLABLE_INTEGER for name in ("precharge_quota", "expected_quota")},
    }


def _plan_totals() -> dict[str, Any]:
    """``plan --json`` totals: this run's, by model and by stage (with the next run's stages
    after this run's), and the next run's (the finals after the picks)."""
    stage = _object(
        {
            "stage": {"enum": ["drafts", "finals", "regenerations"]},
            "deliverable": {
                **_NULLABLE_STRING,
                "description": "regenerations: the deliverable they are made for; else null.",
            },
            "run": {
                "enum": ["this", "next"],
                "description": "'this': the run planned; 'next': the run after it, which "
                "renders these once the drafted shots are picked (or, after --drafts, anyway).",
            },
            "after_picks": {
                "type": "boolean",
                "description": "Waits for drafted shots to be picked; priced from the final "
                "configuration (the pick gives the seed, which changes no price).",
            },
            "generations": _COUNT,
            "billed_seconds": _COUNT,
            **_plan_money(),
        },
        description="Money in the document's currency, null without prices or when a model "
        "of the stage is not priced; quota in the relay's units.",
    )
    next_run = _object(
        {
            "generations": _COUNT,
            "billed_seconds": _COUNT,
            **_plan_money(),
            "awaiting_pick": {"type": "array", "items": {"type": "string"}},
        },
        description="What the run after this one generates (the stages with run 'next'); "
        "awaiting_pick: the ids of the drafted shots without a pick. Budgets do not count it.",
    )
    return _object(
        {
            "generations": _COUNT,
            "billed_seconds": _COUNT,
            "by_model": {"type": "object"},
            "by_stage": {"type": "array", "items": stage},
            "next_run": {"anyOf": [next_run, {"type": "null"}]},
            **_plan_money(),
            "unpriced": {"type": "array", "items": {"type": "string"}},
        },
        required=["generations", "billed_seconds"],
        description="This run's generations, seconds and money (what budgets count).",
    )


def _kinds() -> dict[str, Any]:
    status_shot = _object(
        {
            "id": {"type": "string"},
            "take": {"type": "integer"},
            "label": {"type": "string"},
            "rendition": {
                "type": "string",
                "description": "'' the storyboard's clip (a drafted shot's final), 'draft', "
                "else the deliverable it is regenerated for.",
            },
            "from_draft": _NULLABLE_INTEGER,
            "status": _ref("shotState"),
            "action": {"enum": ["generate", "resume", "reuse", "restore", "blocked", "refused"]},
            "reason": {"type": "string"},
            "task_id": _NULLABLE_STRING,
            "clip": _nullable("path"),
            "key": {"type": "string"},
            "clip_source": {"enum": ["local", "shared", "server", None]},
            "locked": {"type": "boolean"},
        }
    )
    summary_shot = _object(
        {
            "id": {"type": "string"},
            "take": {"type": "integer"},
            "rendition": {
                "type": "string",
                "description": "'' the storyboard's clip (a drafted shot's final), 'draft', "
                "else the deliverable it is regenerated for.",
            },
            "label": {
                "type": "string",
                "description": "The clip as the run's lines name it: kite, kite#2, "
                "kite:draft#2, kite:vertical.",
            },
            "status": _ref("shotState"),
            "outcome": _ref("outcome"),
            "task_id": _NULLABLE_STRING,
            "clip": _nullable("path"),
            "cached": {"type": "boolean"},
            "message": _NULLABLE_STRING,
        }
    )
    counts = (
        "submitted", "resumed", "reused", "failed", "skipped", "not_submitted", "unknown",
        "in_flight",
    )  # fmt: skip
    return {
        "plan": _document(
            Kind.PLAN,
            "rdpipe plan --json",
            {
                "pipeline": {"type": "string"},
                "shots": {"type": "array", "items": _plan_shot()},
                "totals": _plan_totals(),
                "currency": _NULLABLE_STRING,
                "pricing_version": {},
                "prices": {"type": ["object", "null"]},
                "prices_note": _NULLABLE_STRING,
                "local_media": {"type": "array", "items": {"type": "object"}},
            },
        ),
        "status": _document(
            Kind.STATUS,
            "rdpipe status --json",
            {
                "pipeline": {"type": "string"},
                "shots": {"type": "array", "items": status_shot},
                "billed_seconds": _COUNT,
                "notes": {"type": "array", "items": {"type": "string"}},
            },
        ),
        "run_event": _object(
            {
                "kind": {"const": Kind.RUN_EVENT.value},
                "version": {"const": VERSION},
                "event": {"const": "shot"},
                "id": {"type": "string"},
                "status": _ref("shotState"),
                "task_id": {"type": "string"},
                "progress": {"type": "integer", "description": "percent"},
                "message": {"type": "string"},
                "clip": _ref("path"),
                "take": {"type": "integer"},
                "rendition": {
                    "type": "string",
                    "description": "'draft', or the deliverable a regenerated take is for; "
                    "absent for the storyboard's clip",
                },
                "attempt": {"type": "integer"},
            },
            required=["kind", "version", "event", "id", "status"],
            description="rdpipe run --json: one line per change of a shot",
        ),
        "run_gate_event": _object(
            {
                "kind": {"const": Kind.RUN_EVENT.value},
                "version": {"const": VERSION},
                "event": {"const": "gate"},
                "limit": {"type": "integer", "minimum": 1},
                "ceiling": {"type": "integer", "minimum": 1},
                "lowered": {"type": "boolean"},
            },
            description="rdpipe run --json: the run's bound on requests in flight changed "
            "(lowered: halved after a 429 token_concurrency_limit_reached; else raised by one)",
        ),
        "run_summary": _document(
            Kind.RUN_SUMMARY,
            "rdpipe run --json: the last line",
            {
                "pipeline": {"type": "string"},
                "output": _nullable("path"),
                "deliverables": {
                    "type": "array",
                    "items": _object({"name": {"type": "string"}, "path": _ref("path")}),
                    "description": "each deliverable's video built, in file order",
                },
                "shots": {"type": "array", "items": summary_shot},
                **{name: _COUNT for name in counts},
                "outcomes": _object({outcome.value: _COUNT for outcome in Outcome}),
            },
        ),
        "models": _document(
            Kind.MODELS,
            "rdpipe models --json",
            {
                "models": {
                    "type": "array",
                    "items": _object(
                        {
                            "id": {"type": "string"},
                            "offered": {"type": "boolean"},
                            "owned_by": _NULLABLE_STRING,
                            "in_catalog": {"type": "boolean"},
                            "family": _NULLABLE_STRING,
                            "min_seconds": _NULLABLE_INTEGER,
                            "max_seconds": _NULLABLE_INTEGER,
                            "resolutions": _NULLABLE_STRINGS,
                            "ratios": _NULLABLE_STRINGS,
                            "audio": {"type": ["boolean", "null"]},
                        },
                        ["id", "offered", "min_seconds", "max_seconds"],
                    ),
                },
            },
        ),
        "cost": _document(
            Kind.COST,
            "rdpipe cost --json (README: The bill after)",
            {
                "pipeline": {"type": "string"},
                "lock_file": {
                    **_nullable("path"),
                    "description": "null offline when there is no lock file (offline previews "
                    "keep none)",
                },
                "last_run": {"type": ["object", "null"]},
                "lock": {"type": "object", "required": ["takes", "without_cost", "totals"]},
            },
        ),
        "balance": _document(
            Kind.BALANCE,
            "rdpipe balance --json; amounts in currency (null: it could not be read)",
            {
                "remaining": _NULLABLE_NUMBER,
                "used": _NULLABLE_NUMBER,
                "currency": {"type": ["string", "null"]},
                "unlimited": {"type": "boolean"},
                "source": {"type": "string"},
            },
        ),
        "assets": _document(
            Kind.ASSETS,
            "rdpipe assets --json",
            {
                "portraits": {
                    "type": "array",
                    "items": _object(
                        {
                            "name": {"type": "string"},
                            "file": {"type": "string"},
                            "status": {"type": "string"},
                            "uri": _NULLABLE_STRING,
                            "registered_at": {
                                "type": "number",
                                "description": "Unix time, seconds",
                            },
                        },
                    ),
                },
            },
        ),
        "validate": _document(
            Kind.VALIDATE,
            "rdpipe validate --json",
            {
                "ok": {"type": "boolean"},
                "models_checked": {
                    "enum": [checked.value for checked in ModelsChecked],
                    "description": "What model ids were checked against: 'online', the "
                    "server's list (--online); 'catalog', rdpipe's own catalog (no --online, "
                    "or the list could not be read: models_note says why).",
                },
                "models_note": {
                    **_NULLABLE_STRING,
                    "description": "Why --online did not check against the server's list "
                    "(the note on stderr); null otherwise.",
                },
                "files": {
                    "type": "array",
                    "items": _object(
                        {
                            "pipeline": {
                                "type": "string",
                                "description": "As given on the command line.",
                            },
                            "ok": {"type": "boolean"},
                            "shots": {
                                **_NULLABLE_INTEGER,
                                "description": "How many shots; null when the file does not "
                                "load; 0 for a fragment.",
                            },
                            "fragment": {
                                "type": "boolean",
                                "description": "Checked as a fragment another pipeline includes.",
                            },
                            "included_by": {
                                "type": "array",
                                "items": _ref("path"),
                                "description": "Every file found including this fragment "
                                "(directly or through another fragment), relative to the "
                                "fragment's folder; [] for a pipeline.",
                            },
                            "errors": {"type": "array", "items": _ref("diagnostic")},
                            "warnings": {"type": "array", "items": _ref("diagnostic")},
                        }
                    ),
                },
            },
        ),
        "error": _document(
            Kind.ERROR,
            "Printed on stdout by any command failing under --json",
            {
                "error": {
                    **_ref("errorObject"),
                    "description": "The error that decided the exit code (with that "
                    "exit_code): what a script reads. When the command failed for one reason "
                    "it is also errors[0], kept so that one key always answers.",
                },
                "errors": {
                    "type": "array",
                    "items": _ref("errorObject"),
                    "minItems": 1,
                    "description": "Every error the command met, in the order met (several "
                    "when, say, a run's shots failed and the video could not be built too).",
                },
            },
        ),
    }


def output_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of every document rdpipe prints with ``--json``."""
    kinds = _kinds()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "rdpipe --json output",
        "description": "One document per kind; every object has kind and version.",
        "oneOf": [_ref(name) for name in kinds],
        "$defs": {**_shared(), **kinds},
    }


def schema_text() -> str:
    """The schema as the stable text written to ``schemas/``."""
    return json.dumps(output_schema(), indent=2, sort_keys=True) + "\n"
