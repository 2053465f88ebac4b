"""Command-line interface: ``rdpipe <command> --help`` documents each command.

Each ``rdpipe/cli/*_commands.py`` module registers its commands on :data:`app` when imported;
this package imports all of them, so adding a command group is adding one file.
"""

from __future__ import annotations

import importlib
import pkgutil

from rdpipe.cli.app import app

__all__ = ["app", "main"]


def _register_commands() -> None:
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.endswith("_commands"):
            importlib.import_module(f"{__name__}.{module.name}")


_register_commands()
