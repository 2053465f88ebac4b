"""The public namespace of rdpipe.state is deliberate and complete."""

from __future__ import annotations

import rdpipe.state


def test_all_public_names_are_exported() -> None:
    """Every public name in rdpipe.state is listed in __all__ once, and nothing else is."""
    public = [
        name for name in vars(rdpipe.state) if not name.startswith("_") and name != "annotations"
    ]
    assert sorted(rdpipe.state.__all__) == sorted(public)
