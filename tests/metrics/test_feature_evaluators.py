"""FID / KID / IS evaluators with an injected backbone whose features the test chooses."""

import numpy as np
import pytest
import torch

import t2izoo

from .conftest import FixedFeatures, images_with


def _gauss(n, d, seed, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64) + shift


def test_fid_of_a_set_against_itself_is_near_zero():
    fe = FixedFeatures(6)
    fid = t2izoo.create_component("evaluator", "fid", extractor=fe)
    x = images_with(_gauss(200, 6, 0))
    for start in range(0, 200, 50):
        fid.update(x[start:start + 50], real_images=x[start:start + 50])
    result = fid.compute()
    assert abs(result.value) < 1e-6
    assert result.protocol["num_generated"] == result.protocol["num_real"] == 200
    assert result.protocol["backbone"] == "fixed-test"


def test_fid_matches_closed_form_on_shifted_features():
    fe = FixedFeatures(4)
    fid = t2izoo.create_component("evaluator", "fid", extractor=fe)
    a, b = _gauss(3000, 4, 1), _gauss(3000, 4, 2, shift=1.0)
    fid.update(images_with(a), real_images=images_with(b))
    # both ~N(., I): FD ~ |shift|^2 * d = 4
    assert fid.compute().value == pytest.approx(4.0, abs=0.25)


def test_fid_one_backbone_pass_per_batch_when_shared():
    fe = FixedFeatures(4, with_logits=True)
    fid = t2izoo.create_component("evaluator", "fid", extractor=fe)
    kid = t2izoo.create_component("evaluator", {"name": "kid", "subsets": 3}, extractor=fe)
    inception = t2izoo.create_component("evaluator", {"name": "is", "splits": 2}, extractor=fe)
    fake, real = images_with(_gauss(8, 4, 3)), images_with(_gauss(8, 4, 4))
    for ev in (fid, kid, inception):
        ev.update(fake, real_images=real)
    assert fe.calls == 2  # one pass for the generated batch, one for the real one


def test_memo_is_not_fooled_by_reused_memory():
    fe = FixedFeatures(4)
    first = fe.features(images_with(torch.ones(2, 4))).features.clone()
    second = fe.features(images_with(torch.zeros(2, 4))).features  # new tensor, maybe same address
    assert not torch.equal(first, second)


def test_fid_reference_stats_protocol_is_checked(tmp_path):
    fe = FixedFeatures(3)
    fid = t2izoo.create_component("evaluator", "fid", extractor=fe)
    fid.update(images_with(_gauss(50, 3, 5)), real_images=images_with(_gauss(50, 3, 6)))
    path = fid.save_real_statistics(tmp_path / "ref.npz")
    direct = fid.compute().value
    again = t2izoo.create_component("evaluator", {"name": "fid", "reference_stats": str(path)}, extractor=fe)
    again.update(images_with(_gauss(50, 3, 5)))
    assert again.compute().value == pytest.approx(direct, rel=1e-12)

    other = FixedFeatures(3)
    other.protocol = lambda: {"backbone": "another", "resize": "none"}
    wrong = t2izoo.create_component("evaluator", {"name": "fid", "reference_stats": str(path)}, extractor=other)
    wrong.update(images_with(_gauss(50, 3, 5)))
    with pytest.raises(ValueError, match="another protocol.*backbone"):
        wrong.compute()


def test_fid_without_real_images_says_so():
    fid = t2izoo.create_component("evaluator", "fid", extractor=FixedFeatures(3))
    fid.update(images_with(_gauss(5, 3, 0)))
    with pytest.raises(ValueError, match="real images"):
        fid.compute()


def test_inception_score_evaluator_on_constructed_logits():
    fe = FixedFeatures(4, with_logits=True)
    ev = t2izoo.create_component("evaluator", {"name": "is", "splits": 2}, extractor=fe)
    ev.update(images_with(torch.eye(4).repeat_interleave(2, 0).double() * 60))  # round-robin: each split sees all 4
    result = ev.compute()
    assert result.value == pytest.approx(4.0, rel=1e-6) and result.std == pytest.approx(0.0, abs=1e-6)
    assert result.protocol["std_ddof"] == 0 and result.protocol["splits"] == 2


def test_inception_score_refuses_backbone_without_classifier():
    ev = t2izoo.create_component("evaluator", "is", extractor=FixedFeatures(4))
    with pytest.raises(ValueError, match="no softmax classifier"):
        ev.update(images_with(torch.zeros(2, 4)))


def test_kid_evaluator_bounded_memory_and_protocol():
    fe = FixedFeatures(4)
    spec = {"name": "kid", "max_samples": 50, "subset_size": 40, "subsets": 10}
    kid = t2izoo.create_component("evaluator", spec, extractor=fe)
    for s in range(4):
        kid.update(images_with(_gauss(30, 4, 10 + s)), real_images=images_with(_gauss(30, 4, 20 + s, shift=2.0)))
    result = kid.compute()
    assert kid._fake.data.shape[0] == 50 and result.protocol["num_generated"] == 120
    assert result.value > 0.1 and result.protocol["subset_size"] == 40


def test_reset_starts_over():
    fid = t2izoo.create_component("evaluator", "fid", extractor=FixedFeatures(3))
    fid.update(images_with(_gauss(5, 3, 0)), real_images=images_with(_gauss(5, 3, 1)))
    fid.reset()
    with pytest.raises(ValueError, match="at least 2 generated"):
        fid.compute()


def test_toy_pixels_backbone_runs_fid_without_weights():
    tiny = t2izoo.get_component("evaluator", "fid").config_class.tiny()
    fid = t2izoo.create_component("evaluator", {"name": "fid", **tiny})
    x = torch.rand(6, 3, 16, 16) * 2 - 1
    fid.update(x, real_images=x)
    assert abs(fid.compute().value) < 1e-6
    assert np.isfinite(fid.compute().value)
