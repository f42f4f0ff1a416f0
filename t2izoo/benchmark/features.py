"""Feature-extraction speed of the metric backbones (FID/KID/IS Inception, CLIP score).

The networks have the reference architectures with **random weights** (the real weights cannot
be downloaded here and speed does not depend on their values). Each backbone runs through the
same `features` / `embed_images` path the evaluators use (resize on the device included).

Also measured: FID and IS from one Inception pass (``features`` returns pool3 and logits
together, and evaluators sharing a backbone reuse the memoised batch) against two passes.

Example:
    >>> rows = bench_features(["fid-inception"], batch=2, image_size=64, rounds=1)  # doctest: +SKIP
    >>> rows[0]["images_per_s"] > 0                                                 # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from .measure import interleaved

__all__ = ["BACKBONES", "bench_features", "one_pass_fid_is"]


def _fid_inception() -> Any:
    from t2izoo.evaluation.inception import FIDInception, build_fid_inception_network

    return FIDInception(build_fid_inception_network(), weights_sha256=None)


def _timm_inception() -> Any:
    import timm

    from t2izoo.evaluation.inception import TimmInception

    return TimmInception(timm.create_model("inception_v3", pretrained=False), weights_sha256=None,
                         model_name="inception_v3 (random)")


def _open_clip(model: str) -> Callable[[], Any]:
    def make() -> Any:
        import open_clip

        from t2izoo.evaluation.clip import OpenCLIPEmbedder

        net = open_clip.create_model(model, pretrained=None)
        return OpenCLIPEmbedder(net, open_clip.get_tokenizer(model), label=f"{model} (random)", weights_sha256=None)

    return make


#: name -> (what it serves, factory with random weights)
BACKBONES: dict[str, tuple[str, Callable[[], Any]]] = {
    "fid-inception": ("FID / KID / IS (TF Inception, 299 px)", _fid_inception),
    "timm-inception": ("FID / KID / IS (torchvision Inception, 299 px)", _timm_inception),
    "open-clip-ViT-B-32": ("CLIP score / R-precision (224 px)", _open_clip("ViT-B-32")),
}


def _runner(module: Any) -> Callable[[torch.Tensor], Any]:
    if hasattr(module, "features"):
        return lambda x: (module.clear_memo(), module.features(x))
    return module.embed_images


def bench_features(
    names: Sequence[str] = tuple(BACKBONES),
    *,
    batch: int = 16,
    image_size: int = 128,
    device: str | torch.device = "cpu",
    rounds: int = 2,
) -> list[dict[str, Any]]:
    """Images/s of each backbone on ``batch`` random images of ``image_size`` px."""
    device = torch.device(device)
    images = (torch.rand(batch, 3, image_size, image_size, generator=torch.Generator().manual_seed(0)) * 2 - 1).to(device)
    rows = []
    for name in names:
        if name not in BACKBONES:
            raise ValueError(f"unknown backbone {name!r}; choose from {', '.join(BACKBONES)}")
        what, make = BACKBONES[name]
        torch.manual_seed(0)
        module = make().to(device).eval()
        run = _runner(module)
        timing = interleaved({name: lambda run=run: run(images)}, rounds=rounds, warmup=1, device=device)[name]
        rows.append({
            "backbone": name, "serves": what, "weights": "random (speed only)", "batch": batch,
            "input_size": image_size, "device": str(device), "median_s": timing["median_s"],
            "images_per_s": batch / timing["median_s"],
            "parameters": sum(p.numel() for p in module.parameters()),
        })
        del module
    return rows


def one_pass_fid_is(backbone: str = "fid-inception", *, batch: int = 8, image_size: int = 64,
                    device: str | torch.device = "cpu", rounds: int = 2) -> dict[str, Any]:
    """FID + IS features from one Inception pass (the evaluators' path) vs two separate passes."""
    device = torch.device(device)
    torch.manual_seed(0)
    fe = BACKBONES[backbone][1]().to(device).eval()
    if not hasattr(fe, "features"):
        raise ValueError(f"{backbone!r} is not an image feature extractor (FID/IS backbone)")
    images = (torch.rand(batch, 3, image_size, image_size, generator=torch.Generator().manual_seed(1)) * 2 - 1).to(device)

    def two_passes() -> None:
        fe.clear_memo()
        fe.features(images)  # FID's pool3
        fe.clear_memo()
        fe.features(images)  # IS's logits

    def one_pass() -> None:
        fe.clear_memo()
        out = fe.features(images)  # FID
        again = fe.features(images)  # IS: the memo answers
        assert again is out and out.logits is not None

    res = interleaved({"two passes": two_passes, "one pass": one_pass}, rounds=rounds, warmup=1, device=device)
    return {"backbone": backbone, "batch": batch, "input_size": image_size, "device": str(device),
            "ratio_one_pass_vs_two": res["one pass"]["ratio_to_baseline"],
            "median_s": {k: v["median_s"] for k, v in res.items()}}
