"""The JSON Schema of pipeline files, generated from the pydantic model.

``schemas/pipeline.schema.json`` is this function's output; a test fails when it is stale.
Editors read it through the ``# yaml-language-server: $schema=...`` modeline.
"""

from __future__ import annotations

import json
from typing import Any

from rdpipe.model import Pipeline

SCHEMA_ID = "https://github.com/rdpipe/rdpipe/schemas/pipeline.schema.json"


def pipeline_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a pipeline file."""
    schema = Pipeline.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def schema_text() -> str:
    """The schema as the stable text written to ``schemas/``."""
    return json.dumps(pipeline_schema(), indent=2, sort_keys=True) + "\n"
