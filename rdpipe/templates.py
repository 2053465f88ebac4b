"""Sandboxed Jinja for the strings of a shot, with ``ref()`` citations and located problems.

Templates run in Jinja's immutable sandbox with undefined variables as errors, so a pipeline
file from someone else cannot read files or the environment, or run code. Problems are
recorded as values (a data path and a message) instead of raised, so all are reported at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from rdpipe.load.yaml_source import DataPath

MediaKind = Literal["image", "video", "audio"]
#: A hand-written citation of reference media in a prompt: ``@image2``.
CITATION = re.compile(r"@(image|video|audio)(\d+)")
#: Longest text a template may produce; a prompt is a few hundred characters.
MAX_RENDERED = 100_000


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
    """The Jinja environment every template renders in: sandboxed, strict, no autoescape."""
    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


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
        if "{" not in text:
            return text
        try:
            rendered = self._environment.from_string(text).render(self._context)
        except _CitationError as error:
            self._problems.append(Problem(path, error.message(self._citations)))
            return text
        except jinja2.UndefinedError as error:
            self._problems.append(Problem(path, self._undefined(error)))
            return text
        except jinja2.TemplateSyntaxError as error:
            self._problems.append(
                Problem(
                    path, f"template syntax error: {error.message} (template line {error.lineno})"
                )
            )
            return text
        except jinja2.exceptions.SecurityError as error:
            self._problems.append(Problem(path, f"not allowed in a template: {error}"))
            return text
        except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as error:
            self._problems.append(Problem(path, f"template error: {error}"))
            return text
        if len(rendered) > MAX_RENDERED:
            self._problems.append(
                Problem(path, f"renders to {len(rendered)} characters; the limit is {MAX_RENDERED}")
            )
        return rendered

    def render_value(self, value: Any, path: DataPath) -> Any:
        """Render every string inside a nested value (metadata)."""
        if isinstance(value, str):
            return self.render(value, path)
        if isinstance(value, dict):
            return {k: self.render_value(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render_value(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def _undefined(self, error: jinja2.UndefinedError) -> str:
        message = error.message or "undefined variable"
        names = [k for k in self._context if k != "ref"]
        name = _undefined_name(message)
        if name:
            close = difflib.get_close_matches(name, names, n=1)
            if close:
                return f"{message}; did you mean {close[0]!r}?"
            return f"{message}; define it under vars:, in the shot's vars: or with --set {name}=..."
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
