"""``shapes-accuracy``: do generated scenes contain what the prompt asked for?

The project's shapes classifier reads each image as a set of objects (per cell: shape, colour,
texture, size). Expected objects come from the scene attributes when the caller has them
(``update(..., attributes=[...])``, as the evaluation runner does for the shapes data set), or
else from what the prompt says (`parse_caption`). The headline value is *pair recall*: the
fraction of expected (shape, colour) objects found anywhere in the image. With attributes, the
protocol also carries per-object accuracies at the object's cell.

Example:
    >>> acc = t2izoo.create_component("evaluator", "shapes-accuracy")            # doctest: +SKIP
    >>> acc.update(images, prompts=["a small red circle left of a blue square"])  # doctest: +SKIP
    >>> acc.compute().value                                                       # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import torch

import t2izoo
from t2izoo.evaluation import load_image_backbone

from .shapes_classifier import ShapesClassifierBackbone, predict_objects
from .shapes_parse import parse_caption

__all__ = ["ShapesAccuracy"]


class ShapesAccuracy(t2izoo.Evaluator):
    """Attribute accuracy of ``shapes`` images by the project's classifier."""

    def __init__(self, config: Any, extractor: ShapesClassifierBackbone | None = None, **context: Any) -> None:
        super().__init__(config)
        object.__setattr__(self, "_extractor", extractor)
        self.reset()

    @property
    def extractor(self) -> ShapesClassifierBackbone:
        if self._extractor is None:
            object.__setattr__(self, "_extractor", load_image_backbone(
                "shapes-classifier", weights=self.config.weights, resize=self.config.resize))
        return self._extractor

    def reset(self) -> None:
        self._c: Counter[str] = Counter()
        self._images = 0

    def update(self, images: torch.Tensor, prompts: Sequence[str] | None = None,
               real_images: torch.Tensor | None = None, attributes: Sequence[dict[str, Any]] | None = None) -> None:
        b = images.shape[0]
        if attributes is None and (prompts is None or len(prompts) != b):
            raise ValueError("shapes-accuracy needs the scene attributes (attributes=) or one prompt per image")
        fe = self.extractor
        if fe.device != images.device:
            fe.to(images.device)
        predicted = predict_objects(fe.outputs(images))
        for i, objs in enumerate(predicted):
            found_pairs = {(o["shape"], o["colour"]) for o in objs}
            if attributes is not None:
                self._score_attributes(attributes[i], objs, found_pairs)
            else:
                self._score_prompt(prompts[i], objs, found_pairs)
        self._images += b

    def _score_attributes(self, attrs: dict[str, Any], objs: list[dict[str, Any]], found: set) -> None:
        c = self._c
        by_cell = {o["cell"]: o for o in objs}
        for obj in attrs["objects"]:
            c["pairs"] += 1
            c["pair_hits"] += (obj["shape"], obj["colour"]) in found
            pred = by_cell.get(int(obj["cell"]))
            c["objects"] += 1
            ok = pred is not None
            for key in ("shape", "colour", "texture", "size"):
                hit = pred is not None and pred[key] == obj[key]
                c[f"{key}_hits"] += hit
                ok = ok and hit
            c["object_hits"] += ok
        c["count_hits"] += len(objs) == len(attrs["objects"])
        c["count_images"] += 1

    def _score_prompt(self, prompt: str, objs: list[dict[str, Any]], found: set) -> None:
        c = self._c
        parsed = parse_caption(prompt)
        for pair in parsed["pairs"]:
            c["pairs"] += 1
            c["pair_hits"] += pair in found
        shapes, colours = {o["shape"] for o in objs}, {o["colour"] for o in objs}
        for s in set(parsed["shapes"]):
            c["shape_mentions"] += 1
            c["shape_mention_hits"] += s in shapes
        for col in set(parsed["colours"]):
            c["colour_mentions"] += 1
            c["colour_mention_hits"] += col in colours

    def compute(self) -> t2izoo.MetricResult:
        c = self._c
        if c["pairs"] == 0:
            raise ValueError(f"shapes-accuracy: no (shape, colour) object was expected in {self._images} images "
                             "(prompts without a bindable colour+shape, and no attributes given)")
        ratio = {
            "pair_recall": c["pair_hits"] / c["pairs"],
            **({f"{k}_accuracy": c[f"{k}_hits"] / c["objects"] for k in ("shape", "colour", "texture", "size", "object")}
               if c["objects"] else {}),
            **({"object_count_accuracy": c["count_hits"] / c["count_images"]} if c["count_images"] else {}),
            **({"shape_mention_recall": c["shape_mention_hits"] / c["shape_mentions"]} if c["shape_mentions"] else {}),
            **({"colour_mention_recall": c["colour_mention_hits"] / c["colour_mentions"]}
               if c["colour_mentions"] else {}),
        }
        protocol = {**self.extractor.protocol(), "num_generated": self._images, "expected_objects": c["pairs"],
                    "expected_from": "attributes" if c["objects"] else "parsed prompts", "breakdown": ratio}
        return t2izoo.MetricResult(self.config.name, ratio["pair_recall"], None, protocol)
