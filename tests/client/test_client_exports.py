"""The public namespace of rdpipe.client."""

from __future__ import annotations

import rdpipe.client


def test_all_lists_every_public_name() -> None:
    """__all__ names exactly the public, non-module attributes of the package."""
    public = {
        name
        for name, value in vars(rdpipe.client).items()
        if not name.startswith("_") and type(value).__name__ != "module"
    }
    assert public - {"annotations"} == set(rdpipe.client.__all__)


def test_only_the_http_module_imports_httpx() -> None:
    """No client module but http.py imports httpx, so the library can be swapped in one file."""
    from pathlib import Path

    package = Path(rdpipe.client.__file__).parent
    importers = sorted(
        path.name
        for path in package.glob("*.py")
        if "import httpx" in path.read_text(encoding="utf-8")
    )
    assert importers == ["http.py"]


def test_the_client_knows_nothing_of_pipelines() -> None:
    """No client module imports the pipeline's layers: it sends bytes it is given."""
    from pathlib import Path

    package = Path(rdpipe.client.__file__).parent
    pipeline_layers = ("rdpipe.render", "rdpipe.request", "rdpipe.model", "rdpipe.load")
    importers = sorted(
        path.name
        for path in package.glob("*.py")
        if any(layer in path.read_text(encoding="utf-8") for layer in pipeline_layers)
    )
    assert importers == []
