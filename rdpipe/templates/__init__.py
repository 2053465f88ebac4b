"""Sandboxed Jinja for the strings of a shot: variables, citations and located problems.

Templates run in Jinja's immutable sandbox with undefined variables as errors, so a pipeline
file from someone else cannot read files or the environment, or run code (:mod:`.sandbox`).
:mod:`.source` prepares a template's text (tag-only lines, literal braces); :mod:`.run`
renders a shot's strings with its variables. Jinja itself is imported only once a string
holds a template.
"""

from __future__ import annotations

from rdpipe.templates.run import (
    CITATION,
    RESERVED_NAMES,
    Citations,
    MediaKind,
    Problem,
    TemplateEngine,
    TemplateRun,
    VariableLayer,
    iter_citations,
)
from rdpipe.templates.source import MAX_RENDERED, TEMPLATE_SYNTAX

__all__ = [
    "CITATION",
    "MAX_RENDERED",
    "RESERVED_NAMES",
    "TEMPLATE_SYNTAX",
    "Citations",
    "MediaKind",
    "Problem",
    "TemplateEngine",
    "TemplateRun",
    "VariableLayer",
    "iter_citations",
]
