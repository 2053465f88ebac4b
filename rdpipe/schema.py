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
"""

from __future__ import annotations

import json
import re
from typing import Any

from rdpipe.catalog import Catalog, ModelInfo, load_catalog
from rdpipe.model import Pipeline

SCHEMA_ID = "https://github.com/rdpipe/rdpipe/schemas/pipeline.schema.json"
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
    schema.setdefault("allOf", []).extend(_inherited_limits(catalog))
    for name in _SETTINGS_DEFS:
        definition = schema["$defs"][name]
        definition["properties"]["model"]["anyOf"] = [ids, {"type": "null"}]
        definition.setdefault("allOf", []).extend(
            {"if": _names_model(info.id), "then": _limits(info)} for info in _models(catalog)
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def schema_text() -> str:
    """The schema as the stable text written to ``schemas/``."""
    return json.dumps(pipeline_schema(), indent=2, sort_keys=True) + "\n"


def _models(catalog: Catalog) -> list[ModelInfo]:
    return [catalog.models[model_id] for model_id in catalog.ids()]


def _model_id_schema(catalog: Catalog) -> dict[str, Any]:
    """A catalog id (each with its description), or an id of a family the catalog lacks."""
    families = sorted({_family(model_id) for model_id in catalog.ids()})
    other = {
        "type": "string",
        "pattern": f"^(?!(?:{'|'.join(families)}))[A-Za-z0-9]",
        "description": "A model id rdpipe's catalog does not know, of another family "
        "(`rdpipe models` lists what the server serves).",
    }
    known = [{"const": info.id, "description": _describe(info)} for info in _models(catalog)]
    return {"anyOf": [*known, other]}


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
