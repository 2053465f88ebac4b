"""A tuple field that a YAML list fills, in models that validate strictly.

The pipeline models are strict (YAML already typed every value) and frozen, so a field holding
several values is a tuple; but YAML gives a list, and strict validation takes no list for a
tuple. :data:`Items` takes the list as its tuple, and checks each item as strictly as ever.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

T = TypeVar("T")


def _tuple_from_list(value: Any) -> Any:
    """A YAML list (or a tuple already) as a tuple; anything else is not a list, as for the
    model's list fields (so the loader reads an empty value as unset, and says "list")."""
    if isinstance(value, list | tuple):
        return tuple(value)
    raise PydanticCustomError("list_type", "Input should be a valid list")


#: ``Items[X]``: an immutable sequence of ``X`` written in YAML as a list.
Items = Annotated[tuple[T, ...], BeforeValidator(_tuple_from_list)]
