"""A static HTML demo page: prompts, every stage's image, attention maps and the card's metrics.

``write_demo(pipe, prompts, "demo/")`` writes ``demo/index.html`` with PNGs beside it (relative
links, so the folder can be zipped, served or opened from disk).

Example:
    >>> import t2izoo
    >>> from t2izoo._demo import write_demo
    >>> pipe = t2izoo.build("shapes-tiny")
    >>> page = write_demo(pipe, ["a red circle"], "demo/")  # doctest: +SKIP
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .pipeline import Text2ImagePipeline, tensor_to_pil

__all__ = ["write_demo", "attention_overlays"]

_MAX_WORDS = 8  # attention maps shown per stage; enough for a shapes caption


def attention_overlays(image: torch.Tensor, attention: torch.Tensor, n_words: int) -> list[Any]:
    """Per word: the attention map ``[H', W']`` upsampled and laid over ``image`` ``[C,H,W]``.

    The map is normalised per word to [0, 1] and shown as red over a darkened copy of the
    image, so where the word looks is visible even on a dark picture.
    """
    h, w = image.shape[-2:]
    base = (image.detach().float().clamp(-1, 1) + 1) / 2
    if base.shape[0] == 1:
        base = base.expand(3, -1, -1)
    maps = F.interpolate(attention[:n_words, None].float(), size=(h, w), mode="bilinear", align_corners=False)[:, 0]
    out = []
    for m in maps:
        m = (m - m.min()) / (m.max() - m.min() + 1e-8)
        red = torch.stack([m, torch.zeros_like(m), torch.zeros_like(m)])
        blended = 0.45 * base + 0.55 * red
        out.append(tensor_to_pil((blended * 2 - 1)[None])[0])
    return out


def _words(prompt: str, count: int) -> list[str]:
    words = re.findall(r"\w+", prompt.lower())
    return words[:count] if len(words) >= count else words + [f"token {i}" for i in range(len(words), count)]


def _stage_names(pipe: Text2ImagePipeline, stages: list[torch.Tensor]) -> list[str]:
    n_gen = len(stages) - (1 if pipe.refiner is not None else 0)
    names = [f"generator stage {i + 1}" for i in range(n_gen)]
    if pipe.refiner is not None:
        names.append(f"refiner ({pipe.refiner.config.name})")
    return [f"{name} &middot; {s.shape[-1]}&times;{s.shape[-2]}" for name, s in zip(names, stages)]


def _metrics_table(metrics: dict[str, Any]) -> str:
    if not metrics:
        return "<p class='muted'>No measured metrics in the model card yet (<code>t2izoo evaluate --update-card</code>).</p>"
    rows = []
    for name, value in metrics.items():
        if isinstance(value, dict):
            shown = value.get("value", "")
            if value.get("std") is not None:
                shown = f"{shown} &plusmn; {value['std']}"
            protocol = value.get("protocol") or {}
            detail = ", ".join(f"{k}={v}" for k, v in protocol.items()) if isinstance(protocol, dict) else protocol
        else:
            shown, detail = value, ""
        rows.append(f"<tr><td>{html.escape(str(name))}</td><td>{html.escape(str(shown), quote=False)}</td>"
                    f"<td class='muted'>{html.escape(str(detail))}</td></tr>")
    return "<table><tr><th>metric</th><th>value</th><th>protocol</th></tr>" + "".join(rows) + "</table>"


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
h1{margin-bottom:.2em} .muted{color:#777} figure{display:inline-block;margin:.3em;text-align:center}
figcaption{font-size:.8em} img{image-rendering:pixelated;border:1px solid #ccc}
section{border-top:1px solid #ddd;padding:.6em 0} table{border-collapse:collapse}
td,th{padding:.2em .8em;border-bottom:1px solid #eee;text-align:left}
"""


def write_demo(
    pipe: Text2ImagePipeline,
    prompts: Sequence[str],
    out_dir: str | Path,
    *,
    seeds: Sequence[int] = (0,),
    title: str | None = None,
    summary: str = "",
    metrics: dict[str, Any] | None = None,
    display_size: int = 192,
) -> Path:
    """Generate every prompt for every seed and write ``out_dir/index.html`` with its PNGs.

    Returns the path of the HTML page. Images are written as ``p{prompt}_s{seed}_{stage}.png``
    and attention overlays as ``p{prompt}_s{seed}_att{stage}_{word}.png``.
    """
    prompts = list(prompts)
    if not prompts:
        raise ValueError("give at least one prompt for the demo")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    title = title or pipe.config.preset or "t2izoo pipeline"
    lengths = pipe.encoder.tokenize(prompts).lengths.tolist()
    sections = []
    for i, prompt in enumerate(prompts):
        blocks = []
        for seed in seeds:
            result = pipe([prompt], seed=int(seed))
            names = _stage_names(pipe, result.stages)
            figures = []
            for k, (stage, name) in enumerate(zip(result.stages, names)):
                file = f"p{i:02d}_s{seed}_{k}.png"
                tensor_to_pil(stage)[0].save(out / file)
                figures.append(f"<figure><img src='{file}' width='{display_size}' alt='{html.escape(prompt)}'>"
                               f"<figcaption>{name}</figcaption></figure>")
            attention = []
            for k, att in enumerate(result.attention):
                if att is None:
                    continue
                n = min(int(lengths[i]), att.shape[1], _MAX_WORDS)
                words = _words(prompt, n)
                cells = []
                for j, img in enumerate(attention_overlays(result.stages[k][0], att[0], n)):
                    file = f"p{i:02d}_s{seed}_att{k}_{j}.png"
                    img.save(out / file)
                    cells.append(f"<figure><img src='{file}' width='{display_size // 2}' alt='attention'>"
                                 f"<figcaption>{html.escape(words[j])}</figcaption></figure>")
                attention.append(f"<div><span class='muted'>word attention behind {names[k]} "
                                 f"(map {att.shape[-1]}&times;{att.shape[-2]})</span><br>{''.join(cells)}</div>")
            blocks.append(f"<div><span class='muted'>seed {seed}</span><br>{''.join(figures)}{''.join(attention)}</div>")
        sections.append(f"<section><h3 class='prompt'>&ldquo;{html.escape(prompt)}&rdquo;</h3>{''.join(blocks)}</section>")
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)} &middot; t2izoo demo</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p class='muted'>{html.escape(summary)}</p><h2>Measured metrics</h2>{_metrics_table(metrics or {})}"
        f"<h2>Samples</h2>{''.join(sections)}"
        "<p class='muted'>Written by <code>t2izoo demo</code>.</p></body></html>\n"
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
