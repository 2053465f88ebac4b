"""Sandboxed Jinja for the strings of a shot, with ``ref()`` citations and located problems.

Templates run in Jinja's immutable sandbox with undefined variables as errors, so a pipeline
file from someone else cannot read files or the environment, or run code. Problems are
recorded as values (a data path and a message) instead of raised, so all are reported at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import jinja2
import jinja2.meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from rdpipe.load.yaml_source import DataPath

MediaKind = Literal["image", "video", "audio"]
#: A hand-written citation of reference media in a prompt: ``@image2``.
CITATION = re.compile(r"@(image|video|audio)(\d+)")
#: Longest text a template may produce; a prompt is a few hundred characters.
MAX_RENDERED = 100_000
#: The start of a Jinja tag; none may be left in a rendered string.
TEMPLATE_SYNTAX = re.compile(r"\{[{%#]")
#: Stands for ``{`` inside ``{% raw %}`` until the last check, so braces written on purpose
#: pass it (a private-use character: no prompt contains it).
_LITERAL_BRACE = "\ue000"
_RAW_BLOCK = re.compile(r"(\{%-?\s*raw\s*-?%\})(.*?)(\{%-?\s*endraw\s*-?%\})", re.DOTALL)
_TAG = r"(?:\{%.*?%\}|\{#.*?#\})"
#: A line holding nothing but block tags or comments: it leaves no trace in the output.
_TAG_LINE = re.compile(rf"^[ \t]*({_TAG}(?:[ \t]*{_TAG})*)[ \t]*(?:\r?\n|\Z)", re.MULTILINE)


@dataclass(frozen=True)
class Problem:
    """Something wrong with a shot, at a data path such as ``("shots", 2, "prompt")``."""

    path: DataPath
    message: str


@dataclass
class Citations:
    """Maps a shot's reference names to ``@imageN``-style citations in content order."""

    by_name: dict[str, str] = field(default_factory=dict)
    counts: dict[MediaKind, int] = field(
        default_factory=lambda: {"image": 0, "video": 0, "audio": 0}
    )

    def add(self, name: str, kind: MediaKind) -> None:
        self.counts[kind] += 1
        self.by_name[name] = f"@{kind}{self.counts[kind]}"


def make_environment() -> ImmutableSandboxedEnvironment:
    """The Jinja environment every template renders in: sandboxed, strict, no autoescape.

    Text outside tags is kept as written, trailing newline included, so a prompt ends the
    same way with or without templates.
    """
    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def prepare_source(text: str) -> str:
    """The template as Jinja should see it: literal braces marked, tag-only lines removed.

    Braces inside ``{% raw %}`` become a private-use mark until :meth:`TemplateRun.finish`;
    a line holding only block tags (``{% if night %}``) or comments leaves neither its
    indentation nor its line break, so block scalars keep no blank lines where tags stood.
    """
    text = _RAW_BLOCK.sub(
        lambda m: m.group(1) + m.group(2).replace("{", _LITERAL_BRACE) + m.group(3), text
    )
    return _TAG_LINE.sub(lambda m: m.group(1), text)


class TemplateRun:
    """Renders the strings of one shot, recording problems instead of raising."""

    def __init__(
        self,
        environment: ImmutableSandboxedEnvironment,
        context: dict[str, Any],
        citations: Citations,
        problems: list[Problem],
    ) -> None:
        self._environment = environment
        self._context = {**context, "ref": self._ref}
        self._citations = citations
        self._problems = problems

    def _ref(self, name: str) -> str:
        citation = self._citations.by_name.get(name)
        if citation is None:
            raise _CitationError(name)
        return citation

    def render(self, text: str, path: DataPath) -> str:
        """Render one string; on failure record a problem and return ``text`` as is.

        Braces written inside ``{% raw %}`` stay marked until :meth:`finish` (as do those of a
        string that failed: its problem is reported once, and it is never sent).
        """
        if "{" not in text:
            return _failed(text)
        try:
            template = self._environment.from_string(prepare_source(text))
            rendered = template.render(self._context)
        except _CitationError as error:
            self._problems.append(Problem(path, error.message(self._citations)))
            return _failed(text)
        except jinja2.UndefinedError as error:
            self._problems.append(Problem(path, self._undefined(error, text)))
            return _failed(text)
        except jinja2.TemplateSyntaxError as error:
            message = f"template syntax error: {error.message} (template line {error.lineno})"
            self._problems.append(Problem(path, message + _literal_braces_hint(text)))
            return _failed(text)
        except jinja2.exceptions.SecurityError as error:
            self._problems.append(Problem(path, f"not allowed in a template: {error}"))
            return _failed(text)
        except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as error:
            self._problems.append(Problem(path, f"template error: {error}"))
            return _failed(text)
        if len(rendered) > MAX_RENDERED:
            self._problems.append(
                Problem(path, f"renders to {len(rendered)} characters; the limit is {MAX_RENDERED}")
            )
        return rendered

    def resolve_variables(
        self, variables: Mapping[str, Any], origins: Mapping[str, DataPath]
    ) -> None:
        """Render variables that are templates, each after the variables it uses.

        ``look: "{{ mood }} light"`` becomes ``grey light`` (or ``stormy light`` with
        ``--set mood=stormy``) before any shot string uses it. A cycle is reported at every
        variable in it (``origins`` gives where each was defined); a variable that cannot be
        rendered reads as empty, so its one problem is reported once.
        """
        templated = {name for name, value in variables.items() if _has_template(value)}
        done: set[str] = set()

        def visit(name: str, chain: list[str]) -> None:
            if name in done:
                return
            if name in chain:
                cycle = [*chain[chain.index(name) :], name]
                for member in cycle[:-1]:
                    text = " -> ".join(cycle)
                    self._problems.append(
                        Problem(origins[member], f"variable {member!r} uses itself: {text}")
                    )
                    self._context[member] = ""
                    done.add(member)
                return
            chain.append(name)
            for used in sorted(self._names_used(variables[name]) & templated):
                visit(used, chain)
            chain.pop()
            if name not in done:
                before = len(self._problems)
                value = self._render_variable(variables[name], origins[name])
                self._context[name] = value if len(self._problems) == before else ""
                done.add(name)

        for name in sorted(templated):
            visit(name, [])

    def _render_variable(self, value: Any, path: DataPath) -> Any:
        if isinstance(value, str):
            return self.render(value, path) if _has_template(value) else value
        if isinstance(value, dict):
            return {k: self._render_variable(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._render_variable(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def _names_used(self, value: Any) -> set[str]:
        """Names a variable's templates refer to (its strings, nested ones included)."""
        if isinstance(value, dict):
            return set().union(*(self._names_used(v) for v in value.values()))
        if isinstance(value, list):
            return set().union(*(self._names_used(v) for v in value))
        if not isinstance(value, str) or not _has_template(value):
            return set()
        try:
            parsed = self._environment.parse(prepare_source(value))
        except jinja2.TemplateSyntaxError:
            return set()  # reported when the variable is rendered
        return set(jinja2.meta.find_undeclared_variables(parsed))

    def finish(self, value: Any, path: DataPath) -> Any:
        """The last check before a request is built: no template syntax is left in any string.

        A ``{{`` that reaches the API was never rendered (a variable's value, a string a
        template printed): that is an error naming the field. Braces written inside
        ``{% raw %}`` pass and are restored here.
        """
        if isinstance(value, dict):
            return {k: self.finish(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.finish(v, (*path, i)) for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value
        found = TEMPLATE_SYNTAX.search(value)
        if found is not None:
            snippet = value[found.start() : found.start() + 40]
            self._problems.append(
                Problem(
                    path,
                    f"still holds template syntax after rendering ({snippet!r}): it would be "
                    "sent as written. A variable or a string printed by the template carries "
                    "it; to send braces on purpose, write them inside {% raw %}...{% endraw %}",
                )
            )
        return value.replace(_LITERAL_BRACE, "{")

    def render_value(self, value: Any, path: DataPath) -> Any:
        """Render every string inside a nested value (metadata)."""
        if isinstance(value, str):
            return self.render(value, path)
        if isinstance(value, dict):
            return {k: self.render_value(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render_value(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def _undefined(self, error: jinja2.UndefinedError, text: str) -> str:
        message = error.message or "undefined variable"
        names = [k for k in self._context if k != "ref"]
        name = _undefined_name(message)
        if name:
            close = difflib.get_close_matches(name, names, n=1)
            if close:
                return f"{message}; did you mean {close[0]!r}?"
            return (
                f"{message}; define it under vars:, in the shot's vars: or with --set {name}=..."
                + _literal_braces_hint(text)
            )
        return message


class _CitationError(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def message(self, citations: Citations) -> str:
        carried = ", ".join(citations.by_name) or "none"
        return (
            f"ref({self.name!r}): this shot does not carry that reference "
            f"(add it to the shot's references:; it carries: {carried})"
        )


def _failed(text: str) -> str:
    return text.replace("{", _LITERAL_BRACE)


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return TEMPLATE_SYNTAX.search(value) is not None
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return False


def _literal_braces_hint(text: str) -> str:
    """How to send the braces of ``text`` as text, quoting its first closed ``{{…}}``/``{#…}``.

    Nothing for an unclosed tag (``{{ x``): that is a typo, not braces meant as text.
    """
    found = re.compile(r"\{[{#]").search(text)
    if found is None:
        return ""
    close = re.compile(r"\}\}?").search(text, found.start() + 2, found.start() + 80)
    if close is None:
        return ""
    snippet = text[found.start() : close.end()]
    return (
        ". If the braces are meant as text, wrap them in raw tags: "
        f"{{% raw %}}{snippet}{{% endraw %}}"
    )


def _undefined_name(message: str) -> str | None:
    # Jinja's messages read "'keeperr' is undefined".
    if message.startswith("'") and "' is undefined" in message:
        return message[1 : message.index("' is undefined")]
    return None


def iter_citations(prompt: str) -> Iterator[tuple[MediaKind, int]]:
    """Every ``@image2``-style citation in a rendered prompt, as (kind, number)."""
    for match in CITATION.finditer(prompt):
        kind: MediaKind = match.group(1)  # type: ignore[assignment]
        yield kind, int(match.group(2))
