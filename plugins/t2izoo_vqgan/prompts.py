"""Weighted prompts: ``"a red circle:1 | blue:-0.5"`` -> ``[("a red circle", 1.0), ("blue", -0.5)]``.

Parts are separated by ``|``; a part may end in ``:weight`` (a number, default 1). Positive
weights pull the image towards a text, negative weights push it away (the "exclude" prompts of
VQGAN+CLIP). A colon not followed by a number is part of the text (``"time: noon"``); a part
that ends in ``:number`` always has that number as its weight. Torch-free.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["WeightedPrompt", "parse_prompt", "parse_prompts"]

WeightedPrompt = tuple[str, float]

_WEIGHT = re.compile(r"^(?P<text>.*?):\s*(?P<weight>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$", re.S)


def parse_prompt(prompt: str, require_positive: bool = True) -> list[WeightedPrompt]:
    """Split one prompt string into ``(text, weight)`` parts.

    Raises:
        ValueError: an empty part, or (``require_positive``) no part with a positive weight.

    Example:
        >>> parse_prompt("a red circle:1 | blue:-0.5")
        [('a red circle', 1.0), ('blue', -0.5)]
        >>> parse_prompt("a small green square")
        [('a small green square', 1.0)]
    """
    parts: list[WeightedPrompt] = []
    for raw in prompt.split("|"):
        piece = raw.strip()
        match = _WEIGHT.match(piece)
        text, weight = (match["text"].strip(), float(match["weight"])) if match else (piece, 1.0)
        if not text:
            raise ValueError(f"prompt {prompt!r} has an empty part {raw!r} (parts are separated by '|')")
        parts.append((text, weight))
    if require_positive and not any(w > 0 for _, w in parts):
        raise ValueError(f"prompt {prompt!r} has no positively weighted part: nothing to move the image towards")
    return parts


def parse_prompts(prompts: Iterable[str], extra: Iterable[str] = ()) -> list[list[WeightedPrompt]]:
    """Parse a batch of prompts, appending the parts of every ``extra`` prompt to each.

    ``extra`` parts may all be negative (``"watermark:-1"``): they only add to a prompt.

    Example:
        >>> parse_prompts(["a red circle"], extra=["watermark:-0.5"])
        [[('a red circle', 1.0), ('watermark', -0.5)]]
    """
    extras = [part for e in extra for part in parse_prompt(e, require_positive=False)]
    return [parse_prompt(p) + extras for p in prompts]
