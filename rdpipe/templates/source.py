"""A template's text as Jinja should see it, and the braces in it meant as text.

Jinja reads the text of a prompt as written, so tags on their own lines leave blank lines
and ``{% raw %}`` is the only way to write literal braces. Here, before Jinja sees a string:

- braces inside ``{% raw %}…{% endraw %}`` are marked (:data:`LITERAL_BRACE`), so the last
  check before a request ("no ``{{`` is left") lets exactly those through;
- a line holding only block tags or comments (``{% if night %}``, ``{# note #}``) leaves no
  trace: its indentation goes and its line break moves into a Jinja comment, which keeps
  Jinja's line numbers those of the text as written;
- a block tag between two spaces leaves one space, so folded (``>``) and one-line prompts
  read ``A moon B`` or ``A B``, never ``A  B``.

Tags with Jinja's own whitespace control (``{%-``, ``-%}``, ``{%+``) are left to Jinja.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: Stands for ``{`` written inside ``{% raw %}`` until the last check: a Unicode
#: noncharacter, which the standard reserves for a program's internal use.
LITERAL_BRACE = "\ufdd0"
#: Longest text a template may produce; a prompt is a few hundred characters.
MAX_RENDERED = 100_000
#: The start of a Jinja tag; none may be left in a string that is sent.
TEMPLATE_SYNTAX = re.compile(r"\{[{%#]")

_RAW_BLOCK = re.compile(r"(\{%[-+]?\s*raw\s*[-+]?%\})(.*?)(\{%[-+]?\s*endraw\s*[-+]?%\})", re.S)
# A block tag or comment without whitespace control, possibly over several lines; not raw.
_TAG = r"(?:\{%(?![-+])(?!\s*(?:end)?raw\b)[\s\S]*?(?<![-+])%\}|\{#(?![-+])[\s\S]*?(?<![-+])#\})"
_TAG_LINE = re.compile(rf"^[ \t]*({_TAG}(?:[ \t]*{_TAG})*)[ \t]*(\r?\n|\Z)", re.MULTILINE)
_SPACED_TAG = re.compile(rf"(?<=[ \t])({_TAG})[ \t]")
_OPENERS = {"{{": "}}", "{#": "#}"}


def prepare_source(text: str) -> str:
    """``text`` with literal braces marked, tag-only lines folded away and spaced tags tidied."""
    text = _RAW_BLOCK.sub(lambda m: m[1] + m[2].replace("{", LITERAL_BRACE) + m[3], text)
    text = _TAG_LINE.sub(lambda m: m[1] + ("{#" + m[2] + "#}" if m[2] else ""), text)
    return _SPACED_TAG.sub(lambda m: m[1], text)


def mark_literal(text: str) -> str:
    """``text`` with every brace marked as meant: for strings that are never rendered."""
    return text.replace("{", LITERAL_BRACE)


def unmark(text: str) -> str:
    """The text as it is sent: marked braces become braces again."""
    return text.replace(LITERAL_BRACE, "{")


def has_template(value: object) -> bool:
    """Whether a string, or any string inside a list or mapping, holds a Jinja tag."""
    if isinstance(value, str):
        return TEMPLATE_SYNTAX.search(value) is not None
    if isinstance(value, dict):
        return any(has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(has_template(v) for v in value)
    return False


def brace_candidates(text: str) -> Iterator[str]:
    """Each ``{{…}}`` or ``{#…}`` span of ``text`` that may be braces meant as text."""
    for found in re.finditer(r"\{[{#]", text):
        start = found.start()
        close = text.find(_OPENERS[found[0]], start + 2, start + 80)
        if close < 0 and found[0] == "{#":
            close = text.find("}", start + 2, start + 80) - 1
        if close >= 0:
            yield text[start : close + 2]


def literal_braces_hint(snippet: str | None) -> str:
    """The sentence that tells how to send ``snippet`` (``{{DAILY SPECIAL}}``) as text."""
    if not snippet:
        return ""
    return (
        f". If the braces are meant as text, wrap them in raw tags: "
        f"{{% raw %}}{snippet}{{% endraw %}}"
    )
