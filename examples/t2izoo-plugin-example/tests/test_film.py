"""The example plugin's own tests: the zoo's conformance kit does the heavy lifting."""

import torch

import t2izoo
from t2izoo.testing import check_component


def test_film_passes_the_conformance_kit():
    report = check_component("fusion", "film", context={"channels": 8, "sentence_dim": 16})
    assert set(report.values()) == {"ok"}


def test_film_swaps_into_a_preset():
    pipe = t2izoo.build("shapes-tiny", {"generator.fusion": "film"}, refiner=None)
    assert pipe.config.generator.fusion.name == "film"
    out = pipe(["a red circle"], seed=0)
    assert out.tensors.shape == (1, 3, 64, 64)


def test_film_modulates_once_trained():
    f = t2izoo.create_component("fusion", "film", channels=4, sentence_dim=8)
    torch.nn.init.normal_(f.mlp[-1].weight)
    text = t2izoo.TextFeatures(words=None, mask=None, sentence=torch.randn(2, 8))
    x = torch.randn(2, 4, 3, 3)
    assert not torch.allclose(f(x, text).features, x)
