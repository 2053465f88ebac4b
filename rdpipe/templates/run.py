"""Rendering the strings of one shot: variables in dependency order, citations, problems.

A shot's strings see the pipeline's ``vars``, its own ``vars`` and ``--set`` values, the
later winning. A variable may itself be a template (``look: "{{ mood }} light"``): it is
rendered when a string uses it, after the variables it uses, so ``--set mood=stormy``
changes ``look`` too. A variable that names itself builds on the definition below it
(a shot's ``look: "{{ look }}, wide"`` extends the pipeline's ``look``); a true cycle is
reported at every variable in it. Problems are recorded as values (a data path and a
message) instead of raised, so all are reported at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from rdpipe.load.yaml_source import DataPath
from rdpipe.templates.source import (
    LITERAL_BRACE,
    MAX_RENDERED,
    TEMPLATE_SYNTAX,
    brace_candidates,
    has_template,
    literal_braces_hint,
    mark_literal,
    prepare_source,
    unmark,
)

if TYPE_CHECKING:
    import jinja2

    from rdpipe.templates.sandbox import PromptSandbox

MediaKind = Literal["image", "video", "audio"]
#: A hand-written citation of reference media in a prompt: ``@image2``.
CITATION = re.compile(r"@(image|video|audio)(\d+)")
#: Names rdpipe puts in every template; a variable may not take them.
RESERVED_NAMES = frozenset({"shot", "ref"})
_NONCHARACTER = (
    f"holds U+{ord(LITERAL_BRACE):04X}, a Unicode noncharacter (reserved for programs' own use, "
    "never for text): remove it"
)
#: Characters all the templates of one pipeline may produce: a bound on alias bombs.
MAX_TOTAL_RENDERED = 20_000_000


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


@dataclass(frozen=True)
class VariableLayer:
    """The variables of one level (pipeline, shot, ``--set``) and where they are written."""

    values: Mapping[str, Any]
    prefix: DataPath  # ("vars",), ("shots", 2, "vars") or ("--set",)


class TemplateEngine:
    """The sandbox, compiled templates by text, and the work spent: shared by all shots.

    Jinja is imported, and the sandbox built, by the first string that holds a template: a
    pipeline of plain prompts never pays for them (issue 12, start-up).
    """

    def __init__(self) -> None:
        self._environment: PromptSandbox | None = None
        self._compiled: dict[str, tuple[jinja2.Template, frozenset[str]]] = {}
        self._spent = 0

    @property
    def environment(self) -> PromptSandbox:
        """The sandbox every template renders in, built on first use."""
        if self._environment is None:
            from rdpipe.templates.sandbox import make_environment

            self._environment = make_environment()
        return self._environment

    def compile(self, text: str) -> tuple[jinja2.Template, frozenset[str]]:
        """The template of ``text`` and the names it reads; raises TemplateSyntaxError."""
        import jinja2.meta

        found = self._compiled.get(text)
        if found is None:
            parsed = self.environment.parse(prepare_source(text))
            names = frozenset(jinja2.meta.find_undeclared_variables(parsed))
            found = (self.environment.from_string(parsed), names)
            self._compiled[text] = found
        return found

    @property
    def names_read(self) -> frozenset[str]:
        """Every variable name some template compiled so far reads (``{{ mood }}`` reads mood)."""
        return frozenset().union(*(names for _, names in self._compiled.values()))

    def spend(self, characters: int) -> None:
        """Count rendered characters; raises SecurityError past :data:`MAX_TOTAL_RENDERED`."""
        self._spent += characters
        if self._spent > MAX_TOTAL_RENDERED:
            from jinja2.exceptions import SecurityError

            raise SecurityError(
                f"the file's templates render more than {MAX_TOTAL_RENDERED:,} characters in "
                "all (aliases expanding without end?)"
            )


_Definition = tuple[str, int]  # a variable's name and its layer


class TemplateRun:
    """Renders the strings of one shot, recording problems instead of raising.

    ``problems`` receives the shot's own problems; problems inside variables go to
    :attr:`variable_problems`, for the caller to report once for all shots they affect.
    """

    def __init__(
        self,
        engine: TemplateEngine,
        layers: Sequence[VariableLayer],
        base: Mapping[str, Any],
        citations: Citations,
        problems: list[Problem],
    ) -> None:
        self._engine = engine
        self._layers = layers
        self._base = {**base, "ref": self._ref}
        self._citations = citations
        self._problems = problems
        self.variable_problems: list[Problem] = []
        self._resolved: dict[_Definition, Any] = {}
        self._visiting: list[_Definition] = []
        self._broken: set[_Definition] = set()

    def render(self, text: str, path: DataPath) -> str:
        """Render one string; on failure record a problem and return ``text`` as is.

        Braces written inside ``{% raw %}`` stay marked until :meth:`finish` (as do those of a
        string that failed: its problem is reported once, and it is never sent).
        """
        return self._render(text, path, owner=None, problems=self._problems)

    def render_value(self, value: Any, path: DataPath) -> Any:
        """Render every string inside a nested value (metadata)."""
        return self._render_nested(value, path, owner=None, problems=self._problems)

    def finish(self, value: Any, path: DataPath) -> Any:
        """The last check before a request is built: no template syntax is left anywhere.

        A ``{{`` that would reach the API was never rendered (a string a template printed,
        a mapping key): that is an error naming the field. Braces written inside
        ``{% raw %}`` pass, and are restored here.
        """
        if isinstance(value, dict):
            finished = {}
            for key, item in value.items():
                self._check_left(str(key), (*path, key), what="this key")
                finished[unmark(str(key))] = self.finish(item, (*path, key))
            return finished
        if isinstance(value, list):
            return [self.finish(item, (*path, index)) for index, item in enumerate(value)]
        if not isinstance(value, str):
            return value
        self._check_left(value, path, what="the text")
        return unmark(value)

    def _check_left(self, text: str, path: DataPath, *, what: str) -> None:
        found = TEMPLATE_SYNTAX.search(text)
        if found is not None:
            snippet = unmark(text[found.start() : found.start() + 40])
            self._problems.append(
                Problem(
                    path,
                    f"{what} still holds template syntax after rendering ({snippet!r}) and "
                    "would be sent as written; to send braces on purpose, write them inside "
                    "{% raw %}...{% endraw %}",
                )
            )

    def _ref(self, name: str) -> str:
        citation = self._citations.by_name.get(name)
        if citation is None:
            raise _CitationError(name)
        return citation

    def _render(
        self, text: str, path: DataPath, *, owner: _Definition | None, problems: list[Problem]
    ) -> str:
        if LITERAL_BRACE in text:
            problems.append(Problem(path, _NONCHARACTER))
            return text.replace(LITERAL_BRACE, "")
        if "{" not in text:
            return text
        import jinja2

        try:
            template, names = self._engine.compile(text)
            context = {**self._variables(names, owner), **self._base}
            rendered = template.render(context)
            self._engine.spend(len(rendered))
        except _CitationError as error:
            problems.append(Problem(path, error.message(self._citations)))
        except jinja2.UndefinedError as error:
            problems.append(Problem(path, self._undefined(error, text)))
        except jinja2.TemplateSyntaxError as error:
            snippet = next((s for s in brace_candidates(text) if not self._parses(s)), None)
            message = f"template syntax error: {error.message} (template line {error.lineno})"
            problems.append(Problem(path, message + literal_braces_hint(snippet)))
        except jinja2.exceptions.SecurityError as error:
            problems.append(Problem(path, f"not allowed in a template: {error}"))
        except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as error:
            problems.append(Problem(path, f"template error: {error}"))
        except (MemoryError, RecursionError):
            problems.append(Problem(path, "the template needs more memory than it may use"))
        else:
            if len(rendered) > MAX_RENDERED:
                problems.append(
                    Problem(
                        path, f"renders to {len(rendered)} characters; the limit is {MAX_RENDERED}"
                    )
                )
            return rendered
        return mark_literal(text)

    def _render_nested(
        self, value: Any, path: DataPath, *, owner: _Definition | None, problems: list[Problem]
    ) -> Any:
        if isinstance(value, str):
            return self._render(value, path, owner=owner, problems=problems)
        if isinstance(value, dict):
            return {
                k: self._render_nested(v, (*path, k), owner=owner, problems=problems)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [
                self._render_nested(v, (*path, i), owner=owner, problems=problems)
                for i, v in enumerate(value)
            ]
        return value

    def _parses(self, text: str) -> bool:
        import jinja2

        try:
            self._engine.environment.parse(text)
        except jinja2.TemplateSyntaxError:
            return False
        return True

    def _variables(self, names: frozenset[str], owner: _Definition | None) -> dict[str, Any]:
        """The values of ``names`` that are variables, each rendered if it is a template."""
        values = {}
        for name in names - RESERVED_NAMES:
            definition = self._definition(name, owner)
            if definition is not None:
                values[name] = self._value(definition)
            elif owner is not None and owner[0] == name:
                values[name] = ""  # names itself with nothing below: reported as a cycle
        return values

    def _definition(self, name: str, owner: _Definition | None) -> _Definition | None:
        """Which definition ``name`` means: the top one, or the one below ``owner``'s own."""
        below = len(self._layers)
        if owner is not None and owner[0] == name:
            below = owner[1]
        for level in range(below - 1, -1, -1):
            if name in self._layers[level].values:
                return (name, level)
        if owner is not None and owner[0] == name:
            self._report_cycle([owner, owner])
        return None

    def _value(self, definition: _Definition) -> Any:
        if definition in self._resolved:
            return self._resolved[definition]
        if definition in self._visiting:
            start = self._visiting.index(definition)
            self._report_cycle([*self._visiting[start:], definition])
            return ""
        name, level = definition
        raw = self._layers[level].values[name]
        value = raw
        if has_template(raw):
            self._visiting.append(definition)
            before = len(self.variable_problems)
            value = self._render_nested(
                raw, self._path(definition), owner=definition, problems=self.variable_problems
            )
            self._visiting.pop()
            if len(self.variable_problems) > before or definition in self._broken:
                value = ""  # reported once where it is written; reads as empty meanwhile
        self._resolved[definition] = value
        return value

    def _report_cycle(self, cycle: list[_Definition]) -> None:
        text = " -> ".join(name for name, _ in cycle)
        for member in cycle[:-1]:
            if member not in self._broken:
                self._broken.add(member)
                self.variable_problems.append(
                    Problem(self._path(member), f"variable {member[0]!r} uses itself: {text}")
                )

    def _path(self, definition: _Definition) -> DataPath:
        name, level = definition
        return (*self._layers[level].prefix, name)

    def _undefined(self, error: jinja2.UndefinedError, text: str) -> str:
        message = error.message or "undefined variable"
        name = _undefined_name(message)
        if not name:
            return message
        known = {n for layer in self._layers for n in layer.values} | {"shot"}
        close = difflib.get_close_matches(name, sorted(known), n=1)
        if close:
            return f"{message}; did you mean {close[0]!r}?"
        # Braces around a bare word (``{{DAILY_SPECIAL}}``) may be meant as text; a spaced
        # ``{{ name }}`` is how templates are written.
        bare = re.compile(rf"\{{\{{{re.escape(name)}\}}\}}")
        snippet = next((s for s in brace_candidates(text) if bare.fullmatch(s)), None)
        return (
            f"{message}; define it under vars:, in the shot's vars: or with --set {name}=..."
            + literal_braces_hint(snippet)
        )


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
