"""Does a text-to-image model follow shape words (and colour words)? Minimal-pair accuracy on shapes.

`shapes-accuracy` scores an object at the grid cell its caption names, so a model that draws the
right shape in the wrong place scores nothing for it, and the words cannot be told from the
positions. This probe isolates the words. For each minimal pair of the shapes test split
(`t2izoo.data.ShapesDataset` with ``minimal_pairs=``: two scenes that differ only in the shapes,
or only in the colours, of their objects; same template, positions, sizes, textures) it generates
both captions **with the same noise**, so the two images differ only through the changed words.
The shapes classifier then reads, anywhere in each image, how present every shape (or colour) is
(`ShapesAttributeEmbedder`: max over cells). An image counts as right when the words of its own
caption that the partner lacks are more present than the partner's words it lacks. Chance is 0.5;
the same score on the real pairs is the ceiling the classifier allows.

With ``--damsm DIR`` (a DAMSM image encoder, e.g. a ``damsm`` run's ``final/damsm_image_encoder``)
the probe also asks that DAMSM the same question about the same fakes: is each fake's global
code closer to its own caption's sentence vector (from the pipeline's text encoder) than to the
partner's? A GAN trained with the DAMSM loss is pushed to make the DAMSM say yes; when the DAMSM
says yes far more often than the classifier sees the named shape, the generator is meeting the
DAMSM term with cues other than the drawn shape (a layout, a background).

Every run also reports the pairs' coarse difference (`t2izoo.nn.coarse_pair_difference`: the
mean squared difference of the two images, each pooled to 8 x 8): real pairs are almost the
same picture at that scale, so fakes far above them change the background or layout with the
words, not only the object.

Example:
    $ python -m t2izoo_metrics.probe_word_pairs shapes-attngan --n 200
    shape words: 0.715 of 390 images right (both of a pair: 0.487; real images: 0.987; chance 0.5; 5 pairs ...)
    colour words: 0.957 of 398 images right (both of a pair: 0.915; real images: 1.000; chance 0.5; 1 pairs ...)
    $ python -m t2izoo_metrics.probe_word_pairs shapes-attngan --fields shape --damsm runs/damsm-img/final/damsm_image_encoder
    shape words: 0.715 of 390 images right (...)
      DAMSM shape pairs: 0.915 of the fakes closer to their own caption (real images: 0.952; chance 0.5)
      coarse pair difference (8 x 8): fakes 0.617, real pairs 0.004
    $ python -m t2izoo_metrics.probe_word_pairs runs/a/final --figure pairs.png --figure-with shapes-attngan

``--figure PNG`` also draws the first pairs (`t2izoo_metrics.pair_figure`): the real pairs, then
the model's fakes and those of each ``--figure-with`` model, framed green where the classifier
reads the caption's own words and red where it reads the partner's.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from t2izoo.data import SHAPES_VOCAB
from t2izoo.nn import coarse_pair_difference, pair_accuracy

__all__ = ["FIELDS", "field_presence", "pair_batches", "prepare_probe", "scene_words", "word_pair_hits", "probe_word_pairs"]

V = SHAPES_VOCAB
#: field -> (its words in presence-column order, the first column in the attribute embedding)
FIELDS: dict[str, tuple[tuple[str, ...], int]] = {
    "shape": (tuple(V.shapes), V.num_classes),
    "colour": (tuple(V.colours), V.num_classes + len(V.shapes)),
}


def field_presence(embedding: torch.Tensor, field: str) -> torch.Tensor:
    """The ``field`` columns (one per word, in `FIELDS` order) of a `ShapesAttributeEmbedder` image embedding."""
    words, start = FIELDS[field]
    return embedding[:, start:start + len(words)]


def word_pair_hits(presence: torch.Tensor, words: Sequence[set[int]]) -> torch.Tensor:
    """Per image ``2k``/``2k+1``: are its own words more present than its partner's?

    Args:
        presence: ``[2N, K]`` presence of each of K words in each image.
        words: per image, the indices of the words its caption names (its objects' shapes or colours).

    Returns:
        ``[2N]`` float: 1.0 right, 0.0 wrong, NaN undecidable. Only the words that differ within a
        pair are compared (mean presence of own-only words > mean presence of partner-only words).
        A pair whose word sets are equal (two objects that swapped shapes) cannot be told apart
        without positions: both of its images are NaN.

    Example:
        >>> p = torch.tensor([[0.9, 0.1], [0.8, 0.3], [0.5, 0.5], [0.5, 0.5]])
        >>> word_pair_hits(p, [{0}, {1}, {0, 1}, {0, 1}]).tolist()
        [1.0, 0.0, nan, nan]
    """
    n = presence.shape[0]
    if n % 2 or len(words) != n:
        raise ValueError(f"word_pair_hits: need an even number of images and one word set each, got {n} images "
                         f"and {len(words)} word sets")
    hits = torch.full((n,), float("nan"))
    for i in range(n):
        own, partner = set(words[i]), set(words[i ^ 1])
        mine, theirs = sorted(own - partner), sorted(partner - own)
        if mine and theirs:
            hits[i] = float(presence[i, mine].mean() > presence[i, theirs].mean())
    return hits


def pair_batches(
    pipe: Any, data: Any, n: int, batch_size: int, seed: int, device: torch.device | str = "cpu",
) -> Iterator[tuple[list[Any], list[Any], torch.Tensor, torch.Tensor]]:
    """The first ``n`` minimal pairs of ``data``, generated as the probe does, a batch at a time.

    Yields ``(first, second, fake, real)``: the pairs' two `Sample` lists and ``[2P, C, 64, 64]``
    fake and real images with the pairs interleaved (rows ``2k``, ``2k + 1``). Batch ``b`` of both
    halves is generated with seed ``seed + b``, so the two captions of a pair get the same noise,
    and any caller that asks for the same ``n``, ``batch_size`` and ``seed`` sees the same images.
    """
    for b, start in enumerate(range(0, n, batch_size)):
        pairs = range(start, min(start + batch_size, n))
        first = [data[2 * k] for k in pairs]
        second = [data[2 * k + 1] for k in pairs]
        images = [pipe([s.captions[0] for s in half], seed=seed + b).tensors.float() for half in (first, second)]
        fake = torch.stack(images, 1).flatten(0, 1).to(device)
        real = torch.stack([torch.stack([a.images[64], c.images[64]]) for a, c in zip(first, second)])
        yield first, second, fake, real.flatten(0, 1).to(device)


def scene_words(attributes: dict[str, Any], field: str) -> set[int]:
    """Indices (in `FIELDS` order) of the ``field`` values of a shapes scene's objects."""
    vocab = FIELDS[field][0]
    return {vocab.index(obj[field]) for obj in attributes["objects"]}


def prepare_probe(
    fields: Sequence[str], counts: Mapping[str, int], data_options: Mapping[str, Any] | None,
    classifier_weights: str | None, device: torch.device | str,
) -> tuple[dict[str, Any], Any]:
    """Check a probe's arguments and load its reader: ``(test-scene options, shapes classifier)``.

    Raises a ValueError naming the bad field, count (every one in ``counts`` must be positive) or
    data option. Shared by `probe_word_pairs` and `t2izoo_metrics.pair_figure`.
    """
    from t2izoo.data import check_data_options
    from t2izoo.evaluation import load_embedder

    from . import shapes_classifier  # noqa: F401 - registers the shapes-attributes embedder

    unknown = [f for f in fields if f not in FIELDS]
    if unknown or not fields:
        raise ValueError(f"fields {list(unknown or fields)} are not probed; choose from {sorted(FIELDS)}")
    if any(v < 1 for v in counts.values()):
        raise ValueError(f"{' and '.join(counts)} must be positive, got "
                         + ", ".join(f"{k}={v}" for k, v in counts.items()))
    options = dict(data_options or {})
    check_data_options("shapes", options, reserved=("minimal_pairs",))
    return options, load_embedder("shapes-attributes", weights=classifier_weights, device=device)


def _summary(hits: torch.Tensor) -> dict[str, float]:
    pairs = hits.view(-1, 2)
    pairs = pairs[~pairs.isnan().any(1)]
    if not len(pairs):
        return {"accuracy": float("nan"), "both": float("nan")}
    return {"accuracy": float(pairs.mean()), "both": float(pairs.all(1).float().mean())}


@torch.no_grad()
def probe_word_pairs(
    pipe: Any,
    *,
    n: int = 200,
    fields: Sequence[str] = ("shape", "colour"),
    batch_size: int = 25,
    seed: int = 0,
    classifier_weights: str | None = None,
    progress: bool = True,
    data_options: Mapping[str, Any] | None = None,
    damsm: torch.nn.Module | str | Path | None = None,
) -> dict[str, Any]:
    """Minimal-pair accuracy of a pipeline's images for each field, and of the real images.

    Args:
        pipe: a built pipeline (``t2izoo.build("shapes-attngan", pretrained=True)``).
        n: minimal pairs per field, from the shapes ``test`` split (each item's first caption).
        batch_size: pairs per generation call; batch ``b`` of both halves uses seed ``seed + b``,
            which gives row ``i`` of both halves the same noise.
        classifier_weights: shapes classifier weights (default: the pinned ones).
        data_options: further `ShapesDataset` options for the test scenes, e.g.
            ``{"max_objects": 1}`` for one-object scenes (``minimal_pairs`` is the probe's own).
        damsm: a DAMSM image encoder (`t2izoo.nn.DAMSMImageEncoder` or its directory): adds
            ``result[field]["damsm"] = {"fake": ..., "real": ...}``, its minimal-pair accuracy on
            the same fakes and on the real pairs, against the pipeline encoder's sentence vectors.

    Each field's result also holds ``coarse_difference = {"fake": ..., "real": ...}``, the mean
    `t2izoo.nn.coarse_pair_difference` of its pairs (8 x 8 grid).

    Example:
        >>> pipe = t2izoo.build("shapes-attngan", pretrained=True)   # doctest: +SKIP
        >>> probe_word_pairs(pipe, n=200)["shape"]["accuracy"]        # doctest: +SKIP
        0.715...
    """
    from tqdm.auto import tqdm

    from t2izoo.data import ShapesDataset

    device = getattr(pipe, "device", torch.device("cpu"))
    options, embedder = prepare_probe(fields, {"n": n, "batch_size": batch_size}, data_options, classifier_weights,
                                      device)
    result: dict[str, Any] = {"pairs": n, "seed": seed, "data_options": options, "protocol": embedder.protocol()}
    image_encoder = _load_damsm(damsm, device) if damsm is not None else None
    if image_encoder is not None and getattr(pipe, "encoder", None) is None:
        raise ValueError("damsm: the pipeline has no text encoder to give the captions' sentence vectors")
    bar = tqdm(total=2 * n * len(fields), desc="word pairs", unit="img", disable=not progress)
    for field in fields:
        data = ShapesDataset("test", size=2 * n, resolutions=(64,), minimal_pairs=field, **options)
        fake_presence, real_presence, words = [], [], []
        damsm_codes: dict[str, list[torch.Tensor]] = {"fake": [], "real": [], "sentence": []}
        coarse = {"fake": 0.0, "real": 0.0}  # summed over pairs, divided by n at the end
        for first, second, fake, real in pair_batches(pipe, data, n, batch_size, seed, device):
            fake_presence.append(field_presence(embedder.embed_images(fake), field).cpu())
            real_presence.append(field_presence(embedder.embed_images(real), field).cpu())
            words += [scene_words(s.attributes, field) for pair in zip(first, second) for s in pair]
            for key, images_ in (("fake", fake), ("real", real)):
                coarse[key] += float(coarse_pair_difference(images_)) * len(first)
            if image_encoder is not None:
                captions = [s.captions[0] for pair in zip(first, second) for s in pair]
                with torch.no_grad():
                    damsm_codes["fake"].append(image_encoder(fake)[1].float().cpu())
                    damsm_codes["real"].append(image_encoder(real)[1].float().cpu())
                    damsm_codes["sentence"].append(pipe.encoder.encode(captions).sentence.float().cpu())
            bar.update(fake.shape[0])
        fake_hits = word_pair_hits(torch.cat(fake_presence), words)
        real_hits = word_pair_hits(torch.cat(real_presence), words)
        decided = int((~fake_hits.isnan()).sum())
        result[field] = {**_summary(fake_hits), "real": _summary(real_hits), "images": decided,
                         "undecidable_pairs": (fake_hits.numel() - decided) // 2,
                         "coarse_difference": {k: v / n for k, v in coarse.items()}}
        if image_encoder is not None:
            sentences = torch.cat(damsm_codes["sentence"])
            result[field]["damsm"] = {k: pair_accuracy(torch.cat(damsm_codes[k]), sentences) for k in ("fake", "real")}
    bar.close()
    return result


def _load_damsm(damsm: torch.nn.Module | str | Path, device: torch.device) -> torch.nn.Module:
    from t2izoo.nn import DAMSMImageEncoder

    if isinstance(damsm, torch.nn.Module):
        return damsm.to(device).eval()
    path = Path(damsm)
    if not (path / "config.json").is_file():
        hint = " (a `--recipe damsm` run writes it to final/damsm_image_encoder)"
        raise FileNotFoundError(f"damsm: {path / 'config.json'} is missing: give a DAMSM image encoder directory{hint}")
    return DAMSMImageEncoder.from_pretrained(path).to(device).eval()


def main(argv: list[str] | None = None) -> int:
    import t2izoo
    from t2izoo import parse_cli_overrides

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="a preset (its published weights) or a model directory (a run's final/)")
    p.add_argument("--n", type=int, default=200, help="minimal pairs per field (test split)")
    p.add_argument("--fields", default="shape,colour", help="comma-separated: shape, colour")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=25, help="pairs per generation call")
    p.add_argument("--classifier-weights", default=None, help="shapes classifier (default: the pinned one)")
    p.add_argument("--device", default=None)
    p.add_argument("--json", default=None, help="also write the result here")
    p.add_argument("--data-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="test-scene option (repeatable), e.g. --data-opt max_objects=1")
    p.add_argument("--damsm", default=None, metavar="DIR",
                   help="also score the fakes with this DAMSM image encoder (e.g. RUN/final/damsm_image_encoder)")
    p.add_argument("--figure", default=None, metavar="PNG",
                   help="also draw the first pairs, real and generated, framed right/wrong (pair_figure)")
    p.add_argument("--figure-pairs", type=int, default=8, help="pairs per field in --figure")
    p.add_argument("--figure-with", action="append", default=[], metavar="MODEL",
                   help="another preset or model directory to draw below MODEL in --figure (repeatable)")
    args = p.parse_args(argv)
    if args.figure_with and not args.figure:
        p.error("--figure-with adds rows to --figure: give --figure PNG too")
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")

    def build(model: str) -> Any:
        path = Path(model)
        return t2izoo.build(model, pretrained=path if path.is_dir() else True, device=device)

    pipe = build(args.model)
    fields = [f.strip() for f in args.fields.split(",") if f.strip()]
    data_options = parse_cli_overrides(args.data_opt)
    result = probe_word_pairs(pipe, n=args.n, fields=fields, batch_size=args.batch_size, seed=args.seed,
                              classifier_weights=args.classifier_weights, data_options=data_options,
                              damsm=args.damsm)
    result["model"] = args.model
    for field in FIELDS:
        if field in result:
            r = result[field]
            print(f"{field} words: {r['accuracy']:.3f} of {r['images']} images right (both of a pair: "
                  f"{r['both']:.3f}; real images: {r['real']['accuracy']:.3f}; chance 0.5; "
                  f"{r['undecidable_pairs']} pairs with swapped words left out)")
            if "damsm" in r:
                print(f"  DAMSM {field} pairs: {r['damsm']['fake']:.3f} of the fakes closer to their own caption "
                      f"(real images: {r['damsm']['real']:.3f}; chance 0.5)")
            c = r["coarse_difference"]
            print(f"  coarse pair difference (8 x 8): fakes {c['fake']:.3f}, real pairs {c['real']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if args.figure:
        from .pair_figure import pair_figure

        models = {_label(args.model): pipe, **{_label(m): build(m) for m in args.figure_with}}
        figure = pair_figure(models, fields=fields, pairs=args.figure_pairs, seed=args.seed,
                             batch_size=args.batch_size, classifier_weights=args.classifier_weights,
                             data_options=data_options)
        Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
        figure.save(args.figure)
        print(f"figure: {args.figure}")
    return 0


def _label(model: str) -> str:
    """A short row label: a preset's name, or a run's folder (``runs/a/final`` -> ``a``)."""
    path = Path(model)
    if path.name == "final" and path.parent.name:
        return path.parent.name
    return path.name or model


if __name__ == "__main__":
    raise SystemExit(main())
