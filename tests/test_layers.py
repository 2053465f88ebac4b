"""The layers of ARCHITECTURE.md hold on disk: each package imports only those listed before it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rdpipe"

#: Bottom to top; a unit may import its own layer and any layer before it (ARCHITECTURE.md).
LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(names.split())
    for names in (
        "rdpipe data errors hints redaction files send_record sockets local_server version "
        "standard_streams progress_steps "
        "ffmpeg_path text",
        "model catalog schema concurrency",
        "load",
        "templates",
        "request",
        "render",
        "prepare",
        "state",
        "remote",
        "plan failure_codes prices costs",
        "client",
        "scheduler",
        "assemble",
        "sim",
        "session",
        "yaml_edit review",
        "cli",
        "entry __main__",
    )
)


def _unit(module: str) -> str:
    """``rdpipe.session.running`` -> ``session``; ``rdpipe.plan`` -> ``plan``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "rdpipe"


def _layer_of(unit: str) -> int:
    for index, names in enumerate(LAYERS):
        if unit in names:
            return index
    raise AssertionError(f"rdpipe.{unit} is in no layer of tests/test_layers.py: add it")


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every ``rdpipe.*`` module ``path`` imports (also inside functions and TYPE_CHECKING)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "rdpipe":
                found += [(node.lineno, f"rdpipe.{alias.name}") for alias in node.names]
            elif node.module.startswith("rdpipe."):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("rdpipe.")]
    return found


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_lower_layers(path: Path) -> None:
    """No module reaches up: the CLI is imported by the entry point only, the client by no model."""
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    own = _layer_of("rdpipe" if relative.parts[1] == "__init__" else relative.parts[1])
    upward = [
        f"line {line}: {module}"
        for line, module in _imports(path)
        if _layer_of(_unit(module)) > own
    ]
    assert not upward, f"{relative} imports a higher layer: {upward}"


def test_every_top_level_unit_has_a_layer() -> None:
    """A new package or top-level module must be placed in a layer (and in ARCHITECTURE.md)."""
    units = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    units |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    placed = set().union(*LAYERS)
    assert units <= placed, sorted(units - placed)
