"""A picture of what `probe_word_pairs` counts: minimal pairs, real and generated, marked right or wrong.

The probe's number says how often a model's image shows its own caption's shape (or colour)
rather than the partner's. This figure shows the first pairs behind that number: one row of real
pairs, then one row per model, each fake framed green when the shapes classifier reads its own
caption's words more than the partner's, red when it reads the partner's, grey when the pair
cannot be decided (two objects that only swapped shapes). The fakes are generated exactly as the
probe generates them (same seeds, same batches), so they are the probe's own first images.

Example:
    >>> import t2izoo                                                         # doctest: +SKIP
    >>> from t2izoo_metrics.pair_figure import pair_figure
    >>> pipes = {"C": t2izoo.build("shapes-attngan", pretrained=True)}      # doctest: +SKIP
    >>> pair_figure(pipes, fields=["shape"], pairs=8).save("pairs.png")     # doctest: +SKIP

    $ python -m t2izoo_metrics.probe_word_pairs runs/a/final --figure pairs.png --figure-with shapes-attngan
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from PIL import Image, ImageDraw

from t2izoo.data import ShapesDataset, caption_grid
from t2izoo.pipeline import tensor_to_pil

from .probe_word_pairs import FIELDS, field_presence, pair_batches, prepare_probe, scene_words, word_pair_hits

__all__ = ["pair_figure", "FRAME_COLOURS"]

#: frame of a generated image: the probe reads its own words / the partner's / cannot decide
FRAME_COLOURS = {1.0: (0, 200, 90), 0.0: (235, 0, 70), None: (160, 160, 175)}  # none of them a shapes colour
_VERDICT = {1.0: "right", 0.0: "wrong", None: "n/a"}


def _shown(image: torch.Tensor, cell: int, verdict: float | None | str = "real") -> Image.Image:
    """``image`` at ``cell`` px, framed in `FRAME_COLOURS` by verdict (real images: no frame)."""
    shown = tensor_to_pil(image[None])[0].convert("RGB").resize((cell, cell), Image.NEAREST)
    if verdict != "real":
        ImageDraw.Draw(shown).rectangle([0, 0, cell - 1, cell - 1], outline=FRAME_COLOURS[verdict], width=4)
    return shown


def _own_words(words: Sequence[set[int]], i: int, field: str) -> str:
    """The words of image ``i``'s caption that its partner's lacks ("circle", "red + star")."""
    vocab = FIELDS[field][0]
    own = sorted(words[i] - words[i ^ 1]) or sorted(words[i])
    return " + ".join(vocab[k] for k in own)


@torch.no_grad()
def _field_grid(
    models: Mapping[str, Any], field: str, pairs: int, seed: int, batch_size: int, embedder: Any,
    options: Mapping[str, Any], cell: int,
) -> Image.Image:
    # whole probe batches, so the first `pairs` images are the ones the probe scores
    generated = math.ceil(pairs / batch_size) * batch_size
    data = ShapesDataset("test", size=2 * generated, resolutions=(64,), minimal_pairs=field, **options)
    shown = 2 * pairs
    items: list[tuple[Image.Image, str]] = []
    for label, pipe in models.items():
        fakes, reals, words = [], [], []
        batches = pair_batches(pipe, data, generated, batch_size, seed, getattr(pipe, "device", "cpu"))
        for first, second, fake, real in batches:
            fakes.append(fake)
            reals.append(real)
            words += [scene_words(s.attributes, field) for pair in zip(first, second) for s in pair]
            if len(words) >= shown:
                break
        fake, words = torch.cat(fakes)[:shown], words[:shown]
        hits = word_pair_hits(field_presence(embedder.embed_images(fake), field).cpu(), words).tolist()
        verdicts = [None if math.isnan(h) else h for h in hits]
        if not items:  # the real pairs once, above the first model
            real = torch.cat(reals)[:shown].cpu()
            items += [(_shown(real[i], cell), f"real: {_own_words(words, i, field)}") for i in range(shown)]
        items += [(_shown(fake[i].cpu(), cell, v), f"{label}: {_VERDICT[v]}") for i, v in enumerate(verdicts)]
    return caption_grid(items, columns=shown, cell=cell, font_size=11, max_lines=3, padding=4)


def pair_figure(
    models: Mapping[str, Any],
    *,
    fields: Sequence[str] = ("shape",),
    pairs: int = 8,
    seed: int = 0,
    batch_size: int = 25,
    classifier_weights: str | None = None,
    data_options: Mapping[str, Any] | None = None,
    cell: int = 96,
) -> Image.Image:
    """The first ``pairs`` minimal pairs of each field: real, then each model's fakes, framed by verdict.

    Args:
        models: label -> pipeline (anything `probe_word_pairs` accepts); one row each, in order.
        fields: ``"shape"`` and/or ``"colour"``; one section each, stacked.
        pairs: pairs shown per field (two images each).
        seed, batch_size: as in `probe_word_pairs`; with the same values (and a probe ``n`` of at
            least ``batch_size``) the fakes are the probe's first images.
        classifier_weights, data_options: as in `probe_word_pairs`.
        cell: side of each image in the figure (nearest-neighbour scaling).

    Frames: green, the shapes classifier reads the image's own words more than its partner's
    (`FRAME_COLOURS`); red, the partner's; grey, undecidable. Real images are not framed.
    """
    if not models:
        raise ValueError("pair_figure: give at least one model (label -> pipeline)")
    device = getattr(next(iter(models.values())), "device", torch.device("cpu"))
    options, embedder = prepare_probe(fields, {"pairs": pairs, "batch_size": batch_size}, data_options,
                                      classifier_weights, device)
    sections = []
    for field in fields:
        grid = _field_grid(models, field, pairs, seed, batch_size, embedder, options, cell)
        title = (f"{field} minimal pairs, same noise within a pair. Frame: green = the classifier reads the "
                 f"caption's own {field}, red = the partner's, grey = undecidable")
        header = Image.new("RGB", (grid.width, 22), "white")
        ImageDraw.Draw(header).text((4, 5), title, fill=(0, 0, 0))
        sections += [header, grid]
    figure = Image.new("RGB", (max(s.width for s in sections), sum(s.height for s in sections)), "white")
    y = 0
    for section in sections:
        figure.paste(section, (0, y))
        y += section.height
    return figure
