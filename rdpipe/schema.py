"""The JSON Schema of pipeline files, generated from the pydantic model and rdpipe's catalog.

``schemas/pipeline.schema.json`` is this function's output; a test fails when it is stale.
Editors read it through the ``# yaml-language-server: $schema=...`` modeline.

From the catalog (:mod:`rdpipe.catalog`) it gives editors what ``validate`` checks (issue 16
§4):

- ``model`` completes to the catalog's ids, each with its description. An id of a family the
  catalog knows (``doubao-seedance-...``, ``seedance-...``) that the catalog lacks is flagged:
  it is almost always a typo, which ``validate`` warns of with a did-you-mean and ``validate
  --online`` checks against the server. An id of another family passes, as in ``validate``
  (new models appear over time).
- Each model's limits (``seconds`` range, ``ratio``, ``resolution``) apply where that model is
  the one in force: a shot or ``defaults`` naming it, or, for those naming none, ``defaults:``
  and the top-level ``model:`` (if/then on the model id). A shot that names its own model but
  takes ``seconds`` from ``defaults`` is checked by ``validate`` only.
- ``draft.model`` completes and is flagged like ``model``; ``on_failure`` alone cannot be
  ``retry_without_audio`` (a class of its mapping can).

What the schema cannot check (``validate`` does): the seconds a shot takes from ``defaults``
when the shot names another model; a draft model's own limits; ids one letter off inside a
family name (``doubao-seedence-...``: the did-you-mean is ``validate``'s); templates; files.
A fragment (a file pipelines include) has its own schema, ``schemas/fragment.schema.json``
(:func:`fragment_schema`): the same keys, none required.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rdpipe.catalog import Catalog, ModelInfo, load_catalog
from rdpipe.model import Pipeline

SCHEMA_ID = "https://github.com/rdpipe/rdpipe/schemas/pipeline.schema.json"
FRAGMENT_SCHEMA_ID = "https://github.com/rdpipe/rdpipe/schemas/fragment.schema.json"
#: Where a model id may be written, as ``$defs`` names (the top level is handled apart).
_SETTINGS_DEFS = ("Settings", "Shot")
_FAMILY = re.compile(r"[a-z-]+?-(?=\d)")


def pipeline_schema(catalog: Catalog | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a pipeline file, with the catalog's model ids and
    limits (``catalog``: rdpipe's own by default)."""
    catalog = catalog or load_catalog()
    schema = Pipeline.model_json_schema(mode="validation")
    ids = _model_id_schema(catalog)
    schema["properties"]["model"]["anyOf"] = [ids, {"type": "null"}]
    schema["$defs"]["DraftSpec"]["properties"]["model"]["anyOf"] = [ids, {"type": "null"}]
    schema.setdefault("allOf", []).extend(_inherited_limits(catalog))
    for name in _SETTINGS_DEFS:
        definition = schema["$defs"][name]
        definition["properties"]["model"]["anyOf"] = [ids, {"type": "null"}]
        definition.setdefault("allOf", []).extend(
            {"if": _names_model(info.id), "then": _limits(info)} for info in _models(catalog)
        )
        _one_policy_for_all(definition["properties"]["on_failure"])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def fragment_schema(catalog: Catalog | None = None) -> dict[str, Any]:
    """The schema of a fragment, a file pipelines ``include:`` (a brand kit): the pipeline's,
    with no key required (the including file gives ``version``, ``name`` and ``shots``)."""
    schema = pipeline_schema(catalog)
    schema.pop("required", None)
    schema["$id"] = FRAGMENT_SCHEMA_ID
    schema["title"] = "Fragment"
    schema["description"] = (
        "A file pipelines include (include: [file]): any key of a pipeline, none required."
    )
    return schema


def schema_text() -> str:
    """The schema as the stable text written to ``schemas/``."""
    return json.dumps(pipeline_schema(), indent=2, sort_keys=True) + "\n"


def fragment_schema_text() -> str:
    """The fragment schema as the stable text written to ``schemas/fragment.schema.json``."""
    return json.dumps(fragment_schema(), indent=2, sort_keys=True) + "\n"


def _one_policy_for_all(on_failure: dict[str, Any]) -> None:
    """``on_failure: retry_without_audio`` alone is refused, as ``validate`` refuses it: it
    concerns the ``output_audio`` class only (the mapping form allows it there)."""
    for choice in on_failure.get("anyOf", []):
        if "enum" in choice:
            choice["enum"] = [p for p in choice["enum"] if p != "retry_without_audio"]


def _models(catalog: Catalog) -> list[ModelInfo]:
    return [catalog.models[model_id] for model_id in catalog.ids()]


def _model_id_schema(catalog: Catalog) -> dict[str, Any]:
    """A catalog id (each with its description), an id RelayDance is known to serve that the
    catalog lacks, or an id of a family the catalog lacks.

    JSON Schema patterns have no case flag, so the families are matched letter by letter with
    classes (``[dD][oO]...``) and ``-`` as ``[-_]``: ``Doubao-Seedance-2-0-480p`` or
    ``doubao_seedance_2_0_480p`` is flagged like any other unknown id of a known family."""
    families = sorted({_family(model_id) for model_id in catalog.ids()})
    other = {
        "type": "string",
        "pattern": f"^(?!(?:{'|'.join(_any_case(f) for f in families)}))[A-Za-z0-9]",
        "description": "A model id rdpipe's catalog does not know, of another family "
        "(`rdpipe models` lists what the server serves).",
    }
    known = [{"const": info.id, "description": _describe(info)} for info in _models(catalog)]
    served = [
        {"const": model_id, "description": "Served by RelayDance; not in rdpipe's catalog, so "
         "its limits are not checked here (`rdpipe models` lists what the server serves)."}
        for model_id in SERVED_OUTSIDE_CATALOG if model_id not in catalog.models
    ]  # fmt: skip
    return {"anyOf": [*known, *served, other]}


#: Ids RelayDance serves that rdpipe's catalog has no limits for: accepted as written.
SERVED_OUTSIDE_CATALOG = ("doubao-seedance-1-0-lite-i2v",)


def _any_case(prefix: str) -> str:
    """A regex matching ``prefix`` in any case, ``-`` or ``_`` between its words."""
    return "".join(
        f"[{c.lower()}{c.upper()}]" if c.isalpha() else "[-_]" if c == "-" else re.escape(c)
        for c in prefix
    )


def _family(model_id: str) -> str:
    """``doubao-seedance-`` of ``doubao-seedance-2-0-480p``: the id up to its first digit."""
    found = _FAMILY.match(model_id)
    if found is None:
        raise ValueError(f"catalog id {model_id!r} has no family prefix (letters, then a digit)")
    return found.group()


def _describe(info: ModelInfo) -> str:
    audio = {None: "sound as generate_audio says", True: "always with sound", False: "silent"}
    media = "image, video and audio references" if info.reference_media else "image references"
    return (
        f"{info.family}: {info.min_seconds}-{info.max_seconds} s, "
        f"{', '.join(info.resolutions)}, {audio[info.audio]}, {media}."
    )


def _limits(info: ModelInfo) -> dict[str, Any]:
    """The settings ``info`` accepts: seconds range, ratios, resolutions (null: not set)."""
    return {
        "properties": {
            "seconds": {"minimum": info.min_seconds, "maximum": info.max_seconds},
            "ratio": {"enum": [*info.ratios, None]},
            "resolution": {"enum": [*info.resolutions, None]},
        }
    }


def _names_model(model_id: str) -> dict[str, Any]:
    return {"properties": {"model": {"const": model_id}}, "required": ["model"]}


def _unless_own_model(info: ModelInfo) -> dict[str, Any]:
    """``info``'s limits for an object (a shot, ``defaults``) that names no model itself."""
    names_one = {"properties": {"model": {"type": "string"}}, "required": ["model"]}
    return {"if": names_one, "else": _limits(info)}


def _inherited_limits(catalog: Catalog) -> list[dict[str, Any]]:
    """Top-level rules: the top-level ``model:`` rules ``defaults`` and the shots when
    ``defaults`` names none; ``defaults.model`` rules the shots that name none."""
    rules: list[dict[str, Any]] = []
    for info in _models(catalog):
        inherited = _unless_own_model(info)
        no_default = {"not": {"required": ["model"]}}
        top = {**_names_model(info.id)}
        top["properties"] = {**top["properties"], "defaults": no_default}
        rules.append(
            {
                "if": top,
                "then": {"properties": {"defaults": inherited, "shots": {"items": inherited}}},
            }
        )
        by_default = {"properties": {"defaults": _names_model(info.id)}, "required": ["defaults"]}
        rules.append({"if": by_default, "then": {"properties": {"shots": {"items": inherited}}}})
    return rules
