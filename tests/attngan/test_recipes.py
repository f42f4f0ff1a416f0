"""AttnGAN's training recipes: DAMSM pretraining and the GAN, on tiny shapes data."""

from __future__ import annotations

import pytest
import torch

import t2izoo

TINY = {
    "encoder.embed_dim": 8, "encoder.hidden": 16, "encoder.max_length": 12,
    "generator.ngf": 2, "generator.z_dim": 4, "generator.c_dim": 4, "generator.r_num": 1,
    "generator.word_dim": 16, "generator.sentence_dim": 16,
}


@pytest.fixture(scope="module")
def shapes():
    from t2izoo.data.shapes import ShapesDataset

    return ShapesDataset("train", size=8, resolutions=(64, 128))


def make_pipe():
    torch.manual_seed(0)
    return t2izoo.build("shapes-attngan", dict(TINY))


def a_batch(pipe, shapes, n=4):
    from t2izoo.data import collate

    return collate([shapes[i] for i in range(n)], tokenizer=pipe.encoder.tokenizer, max_length=12)


def test_damsm_recipe_learns_and_exports_both_encoders(shapes, tmp_path):
    from t2izoo.nn import DAMSMImageEncoder
    from t2izoo.training import make_recipe

    pipe = make_pipe()
    recipe = make_recipe(pipe, "damsm", lr=2e-3, tiny_width=4)
    assert recipe.data_resolutions() == [64]
    batch = a_batch(pipe, shapes)
    recipe.train(True)
    first = recipe.training_step(batch, 0)
    assert set(first) >= {"loss/damsm", "loss/w_loss0", "loss/s_loss1"}
    for step in range(1, 25):
        last = recipe.training_step(batch, step)
    assert last["loss/damsm"] < first["loss/damsm"] * 0.8, (first, last)
    recipe.train(False)
    sample = recipe.sample(batch)
    assert sample["final"].shape[0] == 4 and sample["attention0"].dim() == 4
    out = recipe.export().save_pretrained(tmp_path / "damsm")
    assert (out / "damsm_image_encoder" / "model.safetensors").is_file()
    DAMSMImageEncoder.from_pretrained(out / "damsm_image_encoder")
    loaded = t2izoo.build("shapes-attngan", dict(TINY), pretrained=out)
    assert torch.equal(loaded.encoder.rnn.weight_hh_l0, pipe.encoder.rnn.weight_hh_l0)


def test_damsm_recipe_can_fit_only_an_image_encoder_to_a_frozen_text_encoder(shapes):
    from t2izoo.training import make_recipe

    pipe = make_pipe()
    before = {k: v.clone() for k, v in pipe.encoder.state_dict().items()}
    recipe = make_recipe(pipe, "damsm", lr=2e-3, tiny_width=4, train_text_encoder=False)
    image_before = [p.detach().clone() for p in recipe.image_encoder.parameters()]
    batch = a_batch(pipe, shapes)
    recipe.train(True)
    assert not pipe.encoder.training  # frozen: eval mode, so no dropout on the text features
    first = recipe.training_step(batch, 0)
    for step in range(1, 25):
        last = recipe.training_step(batch, step)
    assert last["loss/damsm"] < first["loss/damsm"] * 0.8, (first, last)
    for key, value in pipe.encoder.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert any(not torch.equal(a, b) for a, b in zip(image_before, recipe.image_encoder.parameters()))


def test_damsm_recipe_refuses_an_untrained_inception():
    from t2izoo.training import make_recipe

    with pytest.raises(ValueError, match="inception_weights"):
        make_recipe(make_pipe(), "damsm", backbone="inception_v3")


def test_attngan_recipe_steps_update_g_and_d(shapes, tmp_path):
    from t2izoo.nn import DAMSMImageEncoder
    from t2izoo.training import make_recipe

    DAMSMImageEncoder(embed_dim=16, backbone="tiny", input_size=64, tiny_width=4).save_pretrained(tmp_path / "img")
    pipe = make_pipe()
    recipe = make_recipe(pipe, ndf=4, image_encoder=str(tmp_path / "img"), lam=5.0)
    assert type(recipe).__name__ == "AttnGANRecipe" and recipe.data_resolutions() == [64, 128]
    assert not any(p.requires_grad for p in pipe.encoder.parameters())
    g0 = [p.detach().clone() for p in pipe.generator.parameters()]
    d0 = [p.detach().clone() for p in recipe.discriminators.parameters()]
    enc0 = pipe.encoder.rnn.weight_hh_l0.detach().clone()
    batch = a_batch(pipe, shapes)
    recipe.train(True)
    logs = recipe.training_step(batch, 0)
    assert set(logs) == {"loss/d", "loss/g_adv", "loss/w", "loss/s", "loss/kl", "loss/g"}
    assert all(torch.isfinite(torch.tensor(v)) for v in logs.values())
    assert any(not torch.equal(a, b) for a, b in zip(g0, pipe.generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, recipe.discriminators.parameters()))
    assert torch.equal(enc0, pipe.encoder.rnn.weight_hh_l0)  # the text encoder stays frozen
    exported = recipe.export()  # EMA weights: between the start and the live weights
    ema = next(exported.generator.parameters())
    live, start = next(pipe.generator.parameters()), g0[0]
    # first update of the warmed-up average: decay min(0.999, (1 + 0) / (10 + 0)) = 0.1
    assert torch.allclose(ema, 0.1 * start + 0.9 * live, atol=1e-6)
    assert recipe.state_dict()["ema_updates"] == 1


def test_attngan_recipe_through_the_trainer(shapes, tmp_path, fresh_accelerate):
    from t2izoo.training import TrainConfig, Trainer, make_recipe

    pipe = make_pipe()
    with pytest.warns(RuntimeWarning, match="DAMSM term"):
        recipe = make_recipe(pipe, ndf=4)
    cfg = TrainConfig(out=tmp_path / "run", steps=2, batch_size=4, progress=False, tensorboard=False, cpu=True)
    result = Trainer(pipe, recipe, shapes, cfg, resolutions=[64, 128]).fit()
    assert result.steps == 2 and (result.final_dir / "generator" / "model.safetensors").is_file()
    again = t2izoo.build("shapes-attngan", dict(TINY), pretrained=result.final_dir)
    assert again(["a red circle"], seed=0).tensors.shape == (1, 3, 128, 128)


def test_probe_damsm_pair_accuracy(tmp_path, capsys):
    """Minimal-pair accuracy: known answers on constructed embeddings, and the CLI on a saved DAMSM."""
    from t2izoo_attngan import probe_damsm

    from t2izoo.training import make_recipe

    codes = torch.randn(6, 8, generator=torch.Generator().manual_seed(0))
    swapped = codes.view(3, 2, 8).flip(1).reshape(6, 8)
    assert probe_damsm.pair_accuracy(codes, codes) == 1.0
    assert probe_damsm.pair_accuracy(codes, swapped) == 0.0
    half = torch.cat([codes[:2], swapped[2:]])  # one pair right, two wrong
    assert probe_damsm.pair_accuracy(codes, half) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="even"):
        probe_damsm.pair_accuracy(codes[:5], codes[:5])

    pipe = make_pipe()
    out = make_recipe(pipe, "damsm", tiny_width=4).export().save_pretrained(tmp_path / "damsm")
    assert probe_damsm.main([str(out), "--n", "3", "--json", str(tmp_path / "probe.json")]) == 0
    assert "shape-pair accuracy" in capsys.readouterr().out
    import json

    result = json.loads((tmp_path / "probe.json").read_text())
    assert result["pairs"] == 3
    for field in ("shape", "colour"):  # a fraction of the 6 images scored
        assert result[field] * 6 == pytest.approx(round(result[field] * 6))
    with pytest.raises(FileNotFoundError, match="damsm_image_encoder"):
        probe_damsm.probe(tmp_path, n=1)
    assert set(result["shape_closest"]) == {"words", "cosine", "mean"}


def test_probe_damsm_names_the_closest_words():
    """word_cosines compares one-word-apart captions; an encoder that sees only 'circle' vs the rest is caught."""
    from t2izoo_attngan import probe_damsm

    from t2izoo.types import TextFeatures

    class RoundOrNot(torch.nn.Module):  # sentence: [1, 0] for "circle" or "hexagon", [0, 1] otherwise
        def encode(self, captions):
            rows = [[1.0, 0.0] if ("circle" in c or "hexagon" in c) else [0.0, 1.0] for c in captions]
            return TextFeatures(words=torch.zeros(len(rows), 1, 2), mask=None, sentence=torch.tensor(rows))

    words, cos = probe_damsm.word_cosines(RoundOrNot(), "shape")
    assert len(words) == cos.shape[0] == 8 and torch.allclose(cos.diagonal(), torch.ones(8))
    close = probe_damsm.closest_words(words, cos)
    assert close["words"] == ["circle", "hexagon"] and close["cosine"] == pytest.approx(1.0)
    assert 0.0 < close["mean"] < 1.0
    with pytest.raises(ValueError, match="field"):
        probe_damsm.word_cosines(RoundOrNot(), "texture")
    with pytest.raises(ValueError, match="level"):
        probe_damsm.word_cosines(RoundOrNot(), "shape", "token")


def test_probe_damsm_word_level_reads_the_varying_words_own_feature():
    """level='word': the feature at the shape word's position, centred; a shared offset and other positions do not count."""
    from t2izoo_attngan import probe_damsm

    from t2izoo.data import SHAPES_VOCAB
    from t2izoo.types import TextFeatures

    class PointyWords(torch.nn.Module):  # word 3 is [10, 1] for pointed shapes, [10, -1] for the rest
        def encode(self, captions):
            words = torch.full((len(captions), 7, 2), 5.0)
            for i, c in enumerate(captions):
                words[i, 3] = torch.tensor([10.0, 1.0 if c.split()[3] in ("triangle", "star") else -1.0])
            return TextFeatures(words=words, mask=None, sentence=torch.ones(len(captions), 2))

    words, cos = probe_damsm.word_cosines(PointyWords(), "shape", "word")
    assert words == tuple(SHAPES_VOCAB.shapes)
    i, j, k = words.index("triangle"), words.index("star"), words.index("circle")
    assert cos[i, j] == pytest.approx(1.0) and cos[i, k] == pytest.approx(-1.0)  # raw cosine would be ~0.98
    assert probe_damsm.closest_words(words, probe_damsm.word_cosines(PointyWords(), "shape")[1])["cosine"] == 1.0


@pytest.mark.parametrize("on_resume", ["checkpoint", "pretrained"])
def test_resume_keeps_or_swaps_the_text_encoder(shapes, tmp_path, fresh_accelerate, on_resume):
    """encoder_on_resume=pretrained continues a GAN with a newer DAMSM text encoder; the default keeps the checkpoint's."""
    from t2izoo.training import TrainConfig, Trainer, make_recipe

    old_dir, new_dir = tmp_path / "damsm-old", tmp_path / "damsm-new"
    make_pipe().save_pretrained(old_dir)
    torch.manual_seed(1)
    t2izoo.build("shapes-attngan", dict(TINY)).save_pretrained(new_dir)
    old_w = t2izoo.build("shapes-attngan", dict(TINY), pretrained=old_dir).encoder.rnn.weight_hh_l0
    new_w = t2izoo.build("shapes-attngan", dict(TINY), pretrained=new_dir).encoder.rnn.weight_hh_l0
    assert not torch.equal(old_w, new_w)

    def run(steps, pretrained, **extra):
        pipe = make_pipe()
        with pytest.warns(RuntimeWarning, match="DAMSM term"):
            recipe = make_recipe(pipe, ndf=4, pretrained_encoder=str(pretrained), **extra)
        cfg = TrainConfig(out=tmp_path / "run", steps=steps, batch_size=4, progress=False, tensorboard=False,
                          cpu=True, resume=steps > 1)
        Trainer(pipe, recipe, shapes, cfg, resolutions=[64, 128]).fit()
        return pipe.encoder.rnn.weight_hh_l0

    assert torch.equal(run(1, old_dir), old_w)
    trained_with = run(2, new_dir, encoder_on_resume=on_resume)
    assert torch.equal(trained_with, new_w if on_resume == "pretrained" else old_w)


def test_encoder_on_resume_is_checked():
    from t2izoo.training import make_recipe

    with pytest.raises(ValueError, match="encoder_on_resume"):
        make_recipe(make_pipe(), ndf=4, encoder_on_resume="latest")
    with pytest.raises(ValueError, match="pretrained_encoder"):
        make_recipe(make_pipe(), ndf=4, encoder_on_resume="pretrained")


def test_mismatch_option_reaches_the_discriminators_and_is_checked(shapes):
    from t2izoo.training import make_recipe

    assert make_recipe(make_pipe(), ndf=4).discriminators.mismatch == "next"
    pipe = make_pipe()
    recipe = make_recipe(pipe, ndf=4, mismatch="partner")
    assert recipe.discriminators.mismatch == "partner"
    recipe.train(True)
    assert torch.isfinite(torch.tensor(recipe.training_step(a_batch(pipe, shapes), 0)["loss/d"]))
    with pytest.raises(ValueError, match="mismatch must be 'next' or 'partner'"):
        make_recipe(make_pipe(), ndf=4, mismatch="shuffle")


def test_d_warmup_updates_only_the_discriminators_at_first(shapes):
    from t2izoo.training import make_recipe

    pipe = make_pipe()
    recipe = make_recipe(pipe, ndf=4, d_warmup=1)
    recipe.train(True)
    batch = a_batch(pipe, shapes)
    g0 = [p.detach().clone() for p in pipe.generator.parameters()]
    d0 = [p.detach().clone() for p in recipe.discriminators.parameters()]
    assert set(recipe.training_step(batch, 0)) == {"loss/d"}
    assert all(torch.equal(a, b) for a, b in zip(g0, pipe.generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, recipe.discriminators.parameters()))
    assert recipe.state_dict()["ema_updates"] == 0
    assert "loss/g" in recipe.training_step(batch, 1)  # warm-up over: G learns again
    assert any(not torch.equal(a, b) for a, b in zip(g0, pipe.generator.parameters()))
    with pytest.raises(ValueError, match="d_warmup"):
        make_recipe(make_pipe(), ndf=4, d_warmup=-1)


def test_pair_noise_gives_both_items_of_a_pair_the_same_draws(shapes):
    from t2izoo.training import make_recipe

    pipe = make_pipe()
    recipe = make_recipe(pipe, ndf=4, pair_noise=True)
    drawn = recipe.paired_noise(5)
    for t in drawn.values():
        assert torch.equal(t[0], t[1]) and torch.equal(t[2], t[3])
        assert not torch.equal(t[1], t[2]) and not torch.equal(t[3], t[4])  # odd item: its own draw
    seen = []
    pipe.generator.register_forward_hook(lambda m, args, kwargs, out: seen.append(kwargs), with_kwargs=True)
    recipe.train(True)
    recipe.training_step(a_batch(pipe, shapes), 0)
    noise, eps = seen[0]["noise"], seen[0]["ca_eps"]
    assert torch.equal(noise[0], noise[1]) and torch.equal(eps[2], eps[3]) and not torch.equal(noise[1], noise[2])
    plain_pipe = make_pipe()  # the default leaves the draws to the generator
    plain = make_recipe(plain_pipe, ndf=4)
    seen.clear()
    plain_pipe.generator.register_forward_hook(lambda m, args, kwargs, out: seen.append(kwargs), with_kwargs=True)
    plain.train(True)
    plain.training_step(a_batch(plain_pipe, shapes), 0)
    assert "noise" not in seen[0] and "ca_eps" not in seen[0]


def test_attribute_head_targets_and_scale_free_logits():
    from t2izoo_attngan.attribute_head import AttributeHead

    from t2izoo.types import TextFeatures

    head = AttributeHead("colour", word_dim=3, sentence_dim=3)
    scenes = [{"objects": [{"colour_id": 9}, {"colour_id": 1}]}, {"objects": []}]
    assert head.targets(scenes).tolist() == [[0, 1, 0, 0, 0, 0, 0, 0, 0, 1], [0] * 10]
    words, sentence = torch.randn(2, 4, 3), torch.randn(2, 3)
    mask = torch.tensor([[False, False, True, True], [False, True, True, True]])
    a = head(TextFeatures(words=words, mask=mask, sentence=sentence), scenes)
    # cosine classifier: the features' length does not matter, and padded words are never picked
    b = head(TextFeatures(words=words * 7, mask=mask, sentence=sentence * 7), scenes)
    padded = words.clone()
    padded[mask] = 100.0
    c = head(TextFeatures(words=padded, mask=mask, sentence=sentence), scenes)
    assert all(torch.allclose(a[k], b[k], atol=1e-6) and torch.allclose(a[k], c[k]) for k in a)
    with pytest.raises(ValueError, match="scene attributes"):
        head(TextFeatures(words=words, mask=mask, sentence=sentence), None)
    with pytest.raises(ValueError, match="text_attribute must be one of"):
        AttributeHead("position", 3, 3)


def test_damsm_text_attribute_term_trains_the_text_side(shapes, tmp_path):
    from t2izoo.training import make_recipe

    pipe = make_pipe()
    recipe = make_recipe(pipe, "damsm", lr=2e-3, tiny_width=4, text_attribute="shape", attribute_weight=2.0)
    assert "attribute_head" in recipe.modules()
    head_params = {id(p) for p in recipe.attribute_head.parameters()}
    assert head_params <= {id(p) for g in recipe.opt.param_groups for p in g["params"]}
    batch = a_batch(pipe, shapes)
    recipe.train(True)
    first = recipe.training_step(batch, 0)
    assert {"loss/attr_s", "loss/attr_w"} <= set(first)
    parts = sum(v for k, v in first.items() if k != "loss/damsm")
    assert first["loss/damsm"] == pytest.approx(parts, rel=1e-5)  # the term is in the total
    for step in range(1, 30):
        last = recipe.training_step(batch, step)
    assert last["loss/attr_s"] < first["loss/attr_s"] * 0.8, (first, last)
    saved = recipe.export().save_pretrained(tmp_path / "damsm")  # the head is dropped after training
    assert (saved / "damsm_image_encoder").is_dir()
    assert not [p for p in saved.rglob("*") if "attribute" in p.name]
    with pytest.raises(ValueError, match="train_text_encoder=false"):
        make_recipe(make_pipe(), "damsm", text_attribute="shape", train_text_encoder=False)


def _saved_image_encoder(directory):
    from t2izoo.nn import DAMSMImageEncoder

    torch.manual_seed(2)
    DAMSMImageEncoder(embed_dim=16, backbone="tiny", input_size=64, tiny_width=4).save_pretrained(directory)
    return directory


def test_refresh_image_encoder_trains_it_on_reals_and_fakes_and_exports_it(shapes, tmp_path):
    from t2izoo.nn import DAMSMImageEncoder
    from t2izoo.training import make_recipe

    img = str(_saved_image_encoder(tmp_path / "img"))
    with pytest.raises(ValueError, match="refresh_image_encoder=true needs -O image_encoder"):
        make_recipe(make_pipe(), ndf=4, refresh_image_encoder=True)
    frozen_recipe = make_recipe(make_pipe(), ndf=4, image_encoder=img)
    assert "image_encoder" not in frozen_recipe.modules() and "image_encoder" not in frozen_recipe.optimizers()

    updates = {}
    for fake_weight in (1.0, 0.0):
        pipe = make_pipe()
        recipe = make_recipe(pipe, ndf=4, image_encoder=img, refresh_image_encoder=True, refresh_fake=fake_weight)
        assert recipe.modules()["image_encoder"] is recipe.image_encoder and "image_encoder" in recipe.optimizers()
        before = [p.detach().clone() for p in recipe.image_encoder.parameters()]
        recipe.train(True)
        assert not recipe.image_encoder.training  # batch norm keeps the real images' statistics
        logs = recipe.training_step(a_batch(pipe, shapes), 0)
        assert ("loss/refresh_fake" in logs) == (fake_weight > 0) and "loss/refresh_real" in logs
        assert all(p.grad is None or not p.grad.any() for p in recipe.image_encoder.parameters())  # none from G
        updates[fake_weight] = [(p.detach() - b) for p, b in zip(recipe.image_encoder.parameters(), before)]
        assert any(u.any() for u in updates[fake_weight])
    # the fake-negative term changes the update (same seed, same batch, same start)
    assert any(not torch.allclose(a, b) for a, b in zip(updates[1.0], updates[0.0]))

    out = recipe.export().save_pretrained(tmp_path / "model")
    saved = DAMSMImageEncoder.from_pretrained(out / "damsm_image_encoder")
    for a, b in zip(saved.state_dict().values(), recipe.image_encoder.state_dict().values()):
        assert torch.equal(a, b)
    t2izoo.build("shapes-attngan", dict(TINY), pretrained=out)  # still an ordinary model directory


def test_refresh_image_encoder_resumes_exactly(shapes, tmp_path, fresh_accelerate):
    from t2izoo.training import TrainConfig, Trainer, make_recipe

    img = str(_saved_image_encoder(tmp_path / "img"))

    def run(out, steps, resume=False):
        pipe = make_pipe()
        recipe = make_recipe(pipe, ndf=4, image_encoder=img, refresh_image_encoder=True, lam=5.0)
        cfg = TrainConfig(out=out, steps=steps, batch_size=4, progress=False, tensorboard=False, cpu=True,
                          resume=resume)
        Trainer(pipe, recipe, shapes, cfg, resolutions=[64, 128]).fit()
        return recipe

    straight = run(tmp_path / "a", 2)
    run(tmp_path / "b", 1)
    resumed = run(tmp_path / "b", 2, resume=True)
    for a, b in zip(straight.image_encoder.state_dict().values(), resumed.image_encoder.state_dict().values()):
        assert torch.equal(a, b)
    sa, sb = (r.optimizers()["image_encoder"].state_dict()["state"] for r in (straight, resumed))
    assert sa.keys() == sb.keys() and all(torch.equal(sa[i]["exp_avg"], sb[i]["exp_avg"]) for i in sa)


def test_pair_consistency_adds_a_logged_term_and_needs_pair_noise(shapes):
    from t2izoo.training import make_recipe

    with pytest.raises(ValueError, match="pair_consistency needs -O pair_noise=true"):
        make_recipe(make_pipe(), ndf=4, pair_consistency=10.0)
    with pytest.raises(ValueError, match="pair_grid"):
        make_recipe(make_pipe(), ndf=4, pair_noise=True, pair_consistency=1.0, pair_grid=0)
    losses = {}
    for weight in (0.0, 1000.0):  # large, so the term stands out of float32 rounding of loss/g
        pipe = make_pipe()
        recipe = make_recipe(pipe, ndf=4, pair_noise=True, pair_consistency=weight)
        recipe.train(True)
        torch.manual_seed(5)
        logs = recipe.training_step(a_batch(pipe, shapes), 0)
        assert ("loss/pair" in logs) == (weight > 0)
        losses[weight] = logs
    with_term = losses[1000.0]
    assert with_term["loss/pair"] > 0 and with_term["loss/pair_real"] >= 0
    # same start, same draws: the total differs from the plain step by exactly the weighted term
    assert with_term["loss/g"] - losses[0.0]["loss/g"] == pytest.approx(1000.0 * with_term["loss/pair"], rel=1e-3)


def test_from_partial_grows_a_64px_model_into_64_128px(tmp_path):
    """`t2izoo train --from DIR --from-partial`: the trained first stage is loaded, the new stage
    stays as built; without --from-partial, or the other way round (a larger model into a
    smaller one), it fails naming the component."""
    from t2izoo.cli.cmd_train import _load_from

    torch.manual_seed(1)
    small = t2izoo.build("shapes-attngan", {**TINY, "generator.branch_num": 1})
    small.save_pretrained(tmp_path / "small")
    grown = make_pipe()
    built = {k: v.clone() for k, v in grown.generator.state_dict().items()}
    loaded = _load_from(grown, tmp_path / "small", partial=True)
    fresh = [k for k in built if k not in small.generator.state_dict()]
    assert fresh and all(k.startswith(("h_net2.", "img_net2.")) for k in fresh)
    counted = [k for k in fresh if not k.endswith("num_batches_tracked")]  # batch norm fills those itself
    assert loaded == ["encoder", f"generator ({len(counted)} tensors fresh: h_net2, img_net2)"]
    for key, value in grown.generator.state_dict().items():
        expected = built[key] if key in fresh else small.generator.state_dict()[key]
        assert torch.equal(value, expected), key
    assert not torch.equal(grown.generator.state_dict()["ca_net.fc.weight"], built["ca_net.fc.weight"])

    with pytest.raises(SystemExit, match="(?s)generator/model.safetensors does not fit .*add --from-partial.*Missing key.*h_net2"):
        _load_from(make_pipe(), tmp_path / "small")
    make_pipe().save_pretrained(tmp_path / "large")
    with pytest.raises(SystemExit, match="generator/model.safetensors holds 20 tensors this pipeline's generator lacks"):
        _load_from(t2izoo.build("shapes-attngan", {**TINY, "generator.branch_num": 1}), tmp_path / "large",
                   partial=True)
    with pytest.raises(SystemExit, match="--from-partial needs --from"):
        t2izoo.cli.main(["train", "shapes-attngan", "--steps", "1", "--out", str(tmp_path / "r"), "--from-partial"])


def test_discriminators_from_carries_a_64px_checkpoints_discriminator_into_64_128px(tmp_path, capsys):
    from t2izoo.training import make_recipe

    torch.manual_seed(2)
    small = make_recipe(t2izoo.build("shapes-attngan", {**TINY, "generator.branch_num": 1}), ndf=4)
    (tmp_path / "step-1" / "modules").mkdir(parents=True)
    torch.save(small.discriminators.state_dict(), tmp_path / "step-1" / "modules" / "discriminators.pt")
    recipe = make_recipe(make_pipe(), ndf=4, discriminators_from=str(tmp_path / "step-1"))
    assert "tensors fresh (netsD.1)" in capsys.readouterr().out
    for key, value in small.discriminators.state_dict().items():
        assert torch.equal(recipe.discriminators.state_dict()[key], value), key
    built = make_recipe(make_pipe(), ndf=4).discriminators.state_dict()  # same seed order: netsD.1 as built
    assert all(torch.equal(built[k], v) for k, v in recipe.discriminators.state_dict().items() if k.startswith("netsD.1."))

    with pytest.raises(ValueError, match="other shapes .*another ndf"):
        make_recipe(make_pipe(), ndf=8, discriminators_from=str(tmp_path / "step-1"))
    with pytest.raises(FileNotFoundError, match="discriminators_from: .*nowhere is missing"):
        make_recipe(make_pipe(), ndf=4, discriminators_from=str(tmp_path / "nowhere"))
