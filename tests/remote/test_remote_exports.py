"""The public namespace of rdpipe.remote is deliberate, complete, and light to import."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import rdpipe.remote


def test_all_public_names_are_exported() -> None:
    """Every public name in rdpipe.remote (its modules aside) is in __all__ once, and no other."""
    public = [
        name
        for name, value in vars(rdpipe.remote).items()
        if not name.startswith("_") and name != "annotations" and not isinstance(value, ModuleType)
    ]
    assert sorted(rdpipe.remote.__all__) == sorted(public)
    assert len(set(rdpipe.remote.__all__)) == len(rdpipe.remote.__all__)


def test_importing_the_package_imports_no_back_end() -> None:
    """Importing rdpipe.remote (as status would) loads neither fsspec nor asyncio: only
    opening a store does."""
    code = (
        "import sys, rdpipe.remote; "
        "print(sorted(m for m in ('fsspec', 's3fs', 'asyncio') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
