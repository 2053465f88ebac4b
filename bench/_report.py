"""The bench's output: a Markdown table of ratios, and its place in BENCHMARKS.md.

This bench owns the "Scheduler and scale" section only. It rewrites the text between two
markers inside that section (or creates the section at the end of the file), and leaves the
rest of the file, including the "Assembly" section another bench owns, as it finds it.
"""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HEADING = "## Scheduler and scale (`bench/run_bench.py`)"
ASSEMBLY_HEADING = "## Assembly"
BEGIN = "<!-- run_bench: begin (generated, rewritten by each run) -->"
END = "<!-- run_bench: end -->"


@dataclass(frozen=True)
class Row:
    """One line of the table: what was measured, the value, the goal and whether it is met."""

    case: str
    measure: str
    value: str
    goal: str = "—"
    met: str = "—"


def verdict(ok: bool) -> str:
    return "yes" if ok else "no"


def table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| case | measured | value | goal | met |", "|---|---|---:|---|---|"]
    lines += [f"| {r.case} | {r.measure} | {r.value} | {r.goal} | {r.met} |" for r in rows]
    return "\n".join(lines)


def machine() -> str:
    """CPU model, cores, Python and OS, for the record."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def assembly_rows(text: str) -> list[Row]:
    """The ratios of the Assembly section's newest table, as rows of this table (not re-measured).

    The newest table is the first with ``case``, ``goal`` and an ``A / B`` column; where it has
    several (``before A / B``, ``after A / B``), the last one is the measurement that stands.
    """
    section = _section(text, ASSEMBLY_HEADING)
    for table_lines in _tables(section):
        cells = [_cells(line) for line in table_lines]
        header = [name.lower() for name in cells[0]]
        ratios = [i for i, name in enumerate(header) if name.endswith("a / b")]
        if len(cells) < 3 or not ratios or "case" not in header or "goal" not in header:
            continue
        case, goal, ratio = header.index("case"), header.index("goal"), ratios[-1]
        met = header.index("met") if "met" in header else None
        measure = header.index("ratio measured") if "ratio measured" in header else None
        return [
            Row(
                f"assembly: {row[case]}",
                row[measure] if measure is not None else "ratio",
                row[ratio],
                row[goal],
                row[met] if met is not None else "—",
            )
            for row in cells[2:]
            if len(row) == len(header)
        ]
    return []


def _tables(section: str) -> list[list[str]]:
    """The Markdown tables of ``section``, each as its lines, in order."""
    tables: list[list[str]] = []
    previous = False
    for line in section.splitlines():
        row = line.startswith("|")
        if row and not previous:
            tables.append([])
        if row:
            tables[-1].append(line)
        previous = row
    return tables


def parse_printed_table(text: str) -> list[Row]:
    """Rows of the table ``bench/assemble_bench.py`` prints (for ``--with-assembly``)."""
    return assembly_rows(f"\n{ASSEMBLY_HEADING}\n{text}")


def write_section(
    path: Path, body: str, *, heading: str = HEADING, begin: str = BEGIN, end: str = END
) -> None:
    """Put ``body`` between a bench's markers (``begin``/``end``) in its section (``heading``,
    made at the end if missing), re-reading the file first. Defaults: run_bench's section."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{begin}\n{body.strip()}\n{end}"
    if heading not in text:
        text = f"{text.rstrip()}\n\n{heading}\n\n{block}\n"
    elif begin in text and end in text:
        before, _, rest = text.partition(begin)
        _, _, after = rest.partition(end)
        text = f"{before}{block}{after}"
    else:
        before, _, after = text.partition(heading)
        text = f"{before}{heading}\n\n{block}\n{after.lstrip(chr(10))}"
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _section(text: str, heading: str) -> str:
    _, found, rest = text.partition(f"\n{heading}")
    if not found:
        return ""
    return rest.split("\n## ", 1)[0]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]
