"""What the review page says of a take beside its picture: its cost, and its prompt's words that
differ from the other takes' (difflib, word by word)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any


def prompt_differences(prompts: list[str]) -> list[tuple[tuple[str, bool], ...]]:
    """Each prompt as runs of words, marked ``True`` where it differs from the first prompt
    that is not the same (difflib, word by word); all empty when every prompt is the same."""
    if len(set(prompts)) <= 1:
        return [() for _ in prompts]
    first = prompts[0].split()
    other = next(p for p in prompts if p != prompts[0]).split()
    result = []
    for index, prompt in enumerate(prompts):
        words = prompt.split()
        base = other if index == 0 or prompt == prompts[0] else first
        matcher = difflib.SequenceMatcher(a=base, b=words, autojunk=False)
        runs: list[tuple[str, bool]] = []
        for tag, _a1, _a2, b1, b2 in matcher.get_opcodes():
            if b2 > b1:
                runs.append((" ".join(words[b1:b2]), tag != "equal"))
        result.append(tuple(runs))
    return result


def cost_text(entry: Mapping[str, Any]) -> str | None:
    """A manifest take's cost: ``"0.42 USD"`` settled, ``"≈0.50 USD"`` while only expected,
    ``None`` when the run knows neither (older runs, takes not yet submitted)."""
    currency = _currency(entry.get("currency")) or ""
    settled, expected = _amount(entry.get("settled_cost")), _amount(entry.get("expected_cost"))
    if settled is not None:
        return f"{settled:.2f} {currency}".strip()
    if expected is not None:
        return f"≈{expected:.2f} {currency}".strip()
    return None


def _currency(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _amount(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None
