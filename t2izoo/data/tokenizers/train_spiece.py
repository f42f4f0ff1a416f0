"""Train the small sentencepiece model for the ``shapes`` world (T5 conventions).

The bundled ``t2izoo/data/assets/shapes_spiece.model`` was made with the defaults:

    python -c "from t2izoo.data import train_shapes_sentencepiece as t; t('t2izoo/data/assets')"

Example:
    >>> from t2izoo.data import train_shapes_sentencepiece, T5Tokenizer
    >>> path = train_shapes_sentencepiece(tmp_path, vocab_size=200)      # doctest: +SKIP
    >>> T5Tokenizer(path)(["a red star"]).ids.shape[0]                    # doctest: +SKIP
    1
"""

from __future__ import annotations

import io
from pathlib import Path

__all__ = ["train_shapes_sentencepiece"]


def train_shapes_sentencepiece(
    out_dir: str | Path,
    vocab_size: int = 256,
    *,
    num_scenes: int = 4000,
    seed: int = 0,
    filename: str = "shapes_spiece.model",
) -> Path:
    """Train a unigram sentencepiece model on shapes captions and write ``out_dir/filename``.

    Ids follow T5: ``<pad>`` 0, ``</s>`` 1, ``<unk>`` 2, no ``<s>``. ``vocab_size`` is an upper
    bound: the shapes captions use few words, so training stops at the pieces it can justify.
    Deterministic for a given sentencepiece version (one thread, identity normalisation).
    """
    import sentencepiece as spm

    from ..shapes import ShapesDataset

    ds = ShapesDataset("train", size=num_scenes, seed=seed, resolutions=(64,))
    captions = [c for i in range(num_scenes) for c in ds.scene(i)[1]]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(captions),
        model_writer=model,
        vocab_size=vocab_size,
        model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
        pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>",
        character_coverage=1.0,
        hard_vocab_limit=False,
        normalization_rule_name="identity",  # captions are lower-case ASCII; keeps the file small
        num_threads=1,
        minloglevel=2,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / filename
    path.write_bytes(model.getvalue())
    return path
