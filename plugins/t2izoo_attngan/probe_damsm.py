"""Does a DAMSM tell captions apart by shape and by colour? Minimal-pair accuracy on shapes.

A GAN trained with a DAMSM can only follow the words its DAMSM separates, so check it before
spending hours on the GAN. For each test image of a minimal pair (`t2izoo.data.ShapesDataset`
with ``minimal_pairs=``: two scenes that differ only in the shapes, or only in the colours, of
their objects), the DAMSM's image-sentence cosine must be higher with the image's own caption
than with its partner's (same template, other shape or colour words). Chance is 0.5.

Pair accuracy only asks for the right ranking, which a tiny cosine margin gives; a generator
conditioned on the sentence vector needs the words to be far apart. So the probe also reports,
for each field, the two words whose one-word-apart captions ("a big red circle in the middle" /
"a big red hexagon in the middle") have the most similar sentence vectors (`word_cosines`): the
pair the generator will most likely confuse. ``level="word"`` compares instead the varying
word's own feature, which the generator's attention reads; centred over the vocabulary, since
every word feature shares a large common part (raw cosines near 0.95 for any two shape words).

Example:
    $ python -m t2izoo_attngan.probe_damsm runs/damsm-img/final --n 200   # the published text encoder
    shape-pair accuracy 0.952 (400 images; chance 0.5); closest shape words: circle / hexagon (sentence cosine 0.985, mean 0.46)
      shape word features (centred): closest circle / hexagon (cosine 0.94, mean -0.13)
    colour-pair accuracy 0.995 (400 images; chance 0.5); closest colour words: red / orange (sentence cosine 0.707, mean 0.44)
      colour word features (centred): closest red / orange (cosine 0.53, mean -0.11)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F

from t2izoo.nn import pair_accuracy

__all__ = ["pair_accuracy", "probe", "word_cosines", "closest_words"]

#: the captions `word_cosines` compares: one field's word varies, the rest is fixed
_WORD_TEMPLATE = "a big {colour} {shape} in the middle"
_FIXED = {"shape": {"colour": "red"}, "colour": {"shape": "circle"}}


@torch.no_grad()
def word_cosines(encoder: torch.nn.Module, field: str = "shape", level: str = "sentence"
                 ) -> tuple[tuple[str, ...], torch.Tensor]:
    """Cosines of captions that differ in one ``field`` word ("shape" or "colour").

    Returns the words (the shapes vocabulary's order) and their ``[K, K]`` cosine matrix, from
    ``encoder.encode`` of "a big red {shape} in the middle" (shapes) or "a big {colour} circle in
    the middle" (colours): of the sentence vectors (``level="sentence"``) or of the varying
    word's own feature minus its mean over the K captions (``level="word"``).

    Example:
        >>> import t2izoo
        >>> words, cos = word_cosines(t2izoo.build("shapes-attngan").encoder.eval(), "shape")
        >>> words[:3], tuple(cos.shape)
        (('circle', 'square', 'triangle'), (8, 8))
    """
    from t2izoo.data import SHAPES_VOCAB

    if field not in _FIXED:
        raise ValueError(f"word_cosines: field must be one of {sorted(_FIXED)}, got {field!r}")
    words = tuple(SHAPES_VOCAB.shapes if field == "shape" else SHAPES_VOCAB.colours)
    if level not in ("sentence", "word"):
        raise ValueError(f"word_cosines: level must be 'sentence' or 'word', got {level!r}")
    captions = [_WORD_TEMPLATE.format(**{**_FIXED[field], field: w}) for w in words]
    text = encoder.encode(captions)
    if level == "sentence":
        vectors = text.sentence.float()
    else:  # the shapes tokenizer is word level: the varying word's index in the template
        position = _WORD_TEMPLATE.split().index("{" + field + "}")
        vectors = text.words[:, position].float()
        vectors = vectors - vectors.mean(0)
    vectors = F.normalize(vectors, dim=1)
    return words, vectors @ vectors.T


def closest_words(words: tuple[str, ...], cosines: torch.Tensor) -> dict[str, object]:
    """The most similar pair of distinct words in a `word_cosines` matrix, and the mean off-diagonal cosine.

    Example:
        >>> closest_words(("a", "b", "c"), torch.tensor([[1.0, 0.2, 0.9], [0.2, 1.0, 0.1], [0.9, 0.1, 1.0]]))
        {'words': ['a', 'c'], 'cosine': 0.9, 'mean': 0.4}
    """
    k = len(words)
    off = cosines.clone().float()
    off.fill_diagonal_(float("-inf"))
    i, j = divmod(int(off.argmax()), k)
    mean = float(cosines[~torch.eye(k, dtype=torch.bool)].mean())
    return {"words": [words[i], words[j]], "cosine": round(float(cosines[i, j]), 6), "mean": round(mean, 6)}


@torch.no_grad()
def probe(model_dir: str | Path, n: int = 200, fields: tuple[str, ...] = ("shape", "colour"),
          batch_size: int = 32) -> dict[str, object]:
    """Minimal-pair accuracy per field of the DAMSM saved in ``model_dir`` (a ``damsm`` run's ``final/``).

    Uses ``n`` pairs of the shapes ``test`` split and each item's first caption. Also
    ``"<field>_closest"``: `closest_words` of the text encoder's `word_cosines`, and
    ``"<field>_closest_word_features"``: the same for ``level="word"``.
    """
    import t2izoo
    from t2izoo.data import ShapesDataset
    from t2izoo.nn import DAMSMImageEncoder

    model_dir = Path(model_dir)
    image_dir = model_dir / "damsm_image_encoder"
    if not image_dir.is_dir():
        raise FileNotFoundError(f"{image_dir} is missing: give the final/ directory of a `--recipe damsm` run")
    encoder = t2izoo.build(str(model_dir), pretrained=model_dir).encoder.eval()
    image_encoder = DAMSMImageEncoder.from_pretrained(image_dir).eval()
    side = int(image_encoder.input_size)
    out = {}
    for field in fields:
        data = ShapesDataset("test", size=2 * n, resolutions=(side,), minimal_pairs=field)
        codes, sentences = [], []
        for start in range(0, 2 * n, batch_size):
            items = [data[i] for i in range(start, min(start + batch_size, 2 * n))]
            codes.append(image_encoder(torch.stack([s.images[side] for s in items]))[1])
            sentences.append(encoder.encode([s.captions[0] for s in items]).sentence)
        out[field] = pair_accuracy(torch.cat(codes), torch.cat(sentences))
        out[f"{field}_closest"] = closest_words(*word_cosines(encoder, field))
        out[f"{field}_closest_word_features"] = closest_words(*word_cosines(encoder, field, "word"))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_dir", help="final/ directory of a `t2izoo train ... --recipe damsm` run")
    p.add_argument("--n", type=int, default=200, help="minimal pairs per field (test split)")
    p.add_argument("--json", default=None, help="also write the result here")
    args = p.parse_args(argv)
    result = probe(args.model_dir, args.n)
    for field in ("shape", "colour"):
        close = result[f"{field}_closest"]
        print(f"{field}-pair accuracy {result[field]:.3f} ({2 * args.n} images; chance 0.5); closest {field} words: "
              f"{close['words'][0]} / {close['words'][1]} (sentence cosine {close['cosine']:.3f}, mean {close['mean']:.2f})")
        close = result[f"{field}_closest_word_features"]
        print(f"  {field} word features (centred): closest {close['words'][0]} / {close['words'][1]} "
              f"(cosine {close['cosine']:.2f}, mean {close['mean']:.2f})")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": str(args.model_dir), "pairs": args.n, **result}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
