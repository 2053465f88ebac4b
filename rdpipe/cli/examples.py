"""The example every command's help ends with, kept in one table (the help test checks that
every command has one)."""

from __future__ import annotations

#: Command path (``"sim serve"``) to the lines shown under ``Example:`` in its ``--help``.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "validate": ("rdpipe validate film.yaml", "rdpipe validate pipelines/*/*.yaml"),
    "plan": ("rdpipe plan film.yaml", "rdpipe plan film.yaml --set look=noir --json"),
    "schema": ("rdpipe schema -o pipeline.schema.json",),
    "assemble": ("rdpipe assemble film.yaml --offline",),
    "assets": ("rdpipe assets film.yaml",),
    "balance": ("rdpipe balance",),
    "cost": ("rdpipe cost film.yaml",),
    "init": ("rdpipe init", "rdpipe init my-film"),
    "models": ("rdpipe models --offline",),
    "review": ("rdpipe review film.yaml", "rdpipe review film.yaml --serve --port 8000"),
    "pick": ("rdpipe pick film.yaml coast 2",),
    "run": (
        "rdpipe run film.yaml --offline",
        "rdpipe run film.yaml --drafts",
        "RDPIPE_CONCURRENCY=8 rdpipe -v run film.yaml --max-cost 20",
    ),
    "status": ("rdpipe status film.yaml",),
    "push": ("rdpipe push film.yaml --remote s3://team-bucket/clips",),
    "pull": ("rdpipe pull film.yaml",),
    "sim": ("rdpipe sim serve --port 8765",),
    "sim serve": ("rdpipe sim serve --port 8765 --error-rate 0.2 --seed 7",),
}


def example(*commands: str) -> str:
    """A help epilog: ``Example:`` and each of ``commands`` on its own line, kept as written
    (click's ``\\b`` stops it re-wrapping the paragraph)."""
    return "\b\nExample:\n" + "\n".join(f"  {command}" for command in commands)
