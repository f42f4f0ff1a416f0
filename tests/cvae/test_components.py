"""label encoder, gated and latent-concat fusions, and the cvae generator's maths."""

import pytest
import torch
from pydantic import ValidationError

import t2izoo
from t2izoo.testing import make_text_features


def _text(sentence):
    return t2izoo.TextFeatures(words=None, mask=None, sentence=sentence)


def test_label_encoder_is_one_hot_and_refuses_unknown_prompts():
    enc = t2izoo.create_component("encoder", "label")
    feats = enc.encode(["a sneaker", "an ankle boot", "a dress"])
    assert feats.words is None and feats.sentence.shape == (3, 10)
    assert feats.sentence.sum(1).tolist() == [1, 1, 1] and feats.sentence.argmax(1).tolist() == [7, 9, 3]
    assert enc.config.ports().outputs["sentence_dim"] == 10
    with pytest.raises(ValueError, match="names none"):
        enc.encode(["a red circle"])
    lenient = t2izoo.create_component("encoder", {"name": "label", "unknown": "zeros"})
    assert lenient.encode(["a red circle", "a bag"]).sentence.sum(1).tolist() == [0, 1]
    assert enc.to(torch.float64).encode(["a bag"]).sentence.dtype == torch.float64


def test_label_encoder_config_errors():
    with pytest.raises(ValidationError, match="not built in"):
        t2izoo.create_component("encoder", {"name": "label", "vocabulary": "birds"})
    own = t2izoo.create_component("encoder", {"name": "label", "classes": ["cat|kitten", "dog"]})
    assert own.config.ports().outputs["sentence_dim"] == 2


def test_gated_fusion_follows_the_paper_equation():
    f = t2izoo.create_component("fusion", "gated", channels=4, sentence_dim=6)
    z, s = torch.randn(3, 4, 1, 1), torch.randn(3, 6)
    out = f(z, _text(s)).features
    t = f.text_proj(s)[:, :, None, None]
    g = torch.sigmoid(f.gate_layer.weight[:, :, 0, 0] @ torch.cat([z, t], 1)[:, :, 0, 0].T + f.gate_layer.bias[:, None]).T
    expected = g[:, :, None, None] * z + (1 - g[:, :, None, None]) * t
    torch.testing.assert_close(out, expected)
    # a gate pinned open passes the latent through; pinned shut, the projected text
    with torch.no_grad():
        f.gate_layer.weight.zero_()
        f.gate_layer.bias.fill_(30.0)
    torch.testing.assert_close(f(z, _text(s)).features, z, atol=1e-6, rtol=0)
    with torch.no_grad():
        f.gate_layer.bias.fill_(-30.0)
    torch.testing.assert_close(f(z, _text(s)).features, t, atol=1e-6, rtol=0)


def test_gated_fusion_without_projection_needs_equal_widths():
    with pytest.raises(ValueError, match="sentence width == channels"):
        t2izoo.create_component("fusion", {"name": "gated", "project_text": False}, channels=4, sentence_dim=6)
    f = t2izoo.create_component("fusion", {"name": "gated", "project_text": False}, channels=4, sentence_dim=4)
    assert f(torch.randn(2, 4, 3, 3), _text(torch.randn(2, 4))).features.shape == (2, 4, 3, 3)


def test_latent_concat_keeps_both():
    f = t2izoo.create_component("fusion", "latent-concat", channels=3, sentence_dim=5)
    z, s = torch.randn(2, 3, 1, 1), torch.randn(2, 5)
    out = f(z, _text(s)).features
    assert f.out_channels == 8 and torch.equal(out[:, :3], z) and torch.equal(out[:, 3:, 0, 0], s)
    proj = t2izoo.create_component("fusion", {"name": "latent-concat", "text_channels": 2}, channels=3, sentence_dim=5)
    assert proj.out_channels == 5


GEN = {"name": "cvae", "image_size": 8, "image_channels": 3, "text_dim": 6, "latent_dim": 4, "hidden": [16]}


@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("fusion", ["gated", "latent-concat"])
@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_cvae_generates_and_reconstructs(arch, fusion, loss):
    torch.manual_seed(0)
    g = t2izoo.create_component("generator", {**GEN, "arch": arch, "channels": [4, 8], "fusion": fusion, "loss": loss,
                                              "batch_norm": arch == "conv"}).eval()
    text = make_text_features(2, None, 6)
    out = g(text, generator=torch.Generator().manual_seed(1))
    again = g(text, noise=g.sample_noise(2, torch.Generator().manual_seed(1)))
    assert out.image.shape == (2, 3, 8, 8) and torch.equal(out.image, again.image)
    assert out.image.abs().max() <= 1
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    rec = g(text, noise=torch.zeros(2, 4), images=x)
    mu = rec.extras["mu"]
    torch.testing.assert_close(rec.extras["z"], mu)  # zero noise: z is the posterior mean
    torch.testing.assert_close(rec.image, g.decode(mu, text))


def test_cvae_loss_terms_match_their_definitions():
    torch.manual_seed(0)
    g = t2izoo.create_component("generator", {**GEN, "kl_weight": 0.5})
    text = make_text_features(3, None, 6)
    x, eps = torch.rand(3, 3, 8, 8) * 2 - 1, torch.randn(3, 4)
    terms = g.loss(x, text, eps)
    mu, logvar = g.encode(x, text)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(1).mean()
    torch.testing.assert_close(terms.kl, kl)
    probs = (g.decode(mu + torch.exp(0.5 * logvar) * eps, text) + 1) / 2
    target = (x + 1) / 2
    bce = -(target * probs.log() + (1 - target) * (1 - probs).log()).flatten(1).sum(1).mean()
    torch.testing.assert_close(terms.reconstruction, bce, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(terms.total, terms.reconstruction + 0.5 * terms.kl)
    mse = t2izoo.create_component("generator", {**GEN, "loss": "mse"})
    m = mse.loss(x, text, eps)
    mu2, logvar2 = mse.encode(x, text)
    expected = (mse.decode(mu2 + torch.exp(0.5 * logvar2) * eps, text) - x).pow(2).flatten(1).sum(1).mean()
    torch.testing.assert_close(m.reconstruction, expected)


def test_the_condition_reaches_encoder_and_decoder():
    torch.manual_seed(0)
    g = t2izoo.create_component("generator", GEN)
    x, a, b = torch.rand(1, 3, 8, 8), _text(torch.randn(1, 6)), _text(torch.randn(1, 6))
    assert not torch.allclose(g.encode(x, a)[0], g.encode(x, b)[0])
    assert not torch.allclose(g.decode(torch.zeros(1, 4), a), g.decode(torch.zeros(1, 4), b))
    blind = t2izoo.create_component("generator", {**GEN, "condition_encoder": False, "fusion": "gated"})
    assert torch.equal(blind.encode(x, a)[0], blind.encode(x, b)[0])  # q(z|x): the paper's gated model


def test_cvae_config_errors_and_ports():
    with pytest.raises(ValidationError, match="not divisible by 2\\*\\*3"):
        t2izoo.create_component("generator", {**GEN, "arch": "conv", "image_size": 12, "channels": [4, 8, 16]})
    with pytest.raises(t2izoo.PortMismatchError, match="sentence_dim"):
        t2izoo.build_config({"encoder": "label", "generator": {**GEN, "text_dim": 8}})


def test_gated_fusion_works_inside_another_generator():
    torch.manual_seed(0)
    pipe = t2izoo.build("shapes-tiny", {"generator.fusion": "gated", "generator.ngf": 4, "generator.z_dim": 4,
                                        "encoder.dim": 8, "generator.text_dim": 8, "refiner": None})
    assert pipe(["a red circle"], seed=0).tensors.shape == (1, 3, 64, 64)
