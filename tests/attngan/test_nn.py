"""Shared layers in t2izoo.nn: GLU, blocks, word attention (mask modes), DAMSM encoder and losses."""

from __future__ import annotations

import math

import pytest
import torch

from t2izoo.nn import (
    GLU,
    INCEPTION_TRUNK,
    DAMSMImageEncoder,
    ResBlock,
    WordAttention,
    class_mask,
    expand_word_mask,
    sentence_loss,
    up_block,
    word_attention,
    words_loss,
)


def test_glu_gates_second_half_and_rejects_odd_channels():
    x = torch.tensor([[2.0, -1.0, 0.0, 100.0]])
    assert torch.allclose(GLU()(x), torch.tensor([[1.0, -1.0]]), atol=1e-6)
    with pytest.raises(ValueError, match="even number of channels"):
        GLU()(torch.zeros(1, 3))


def test_blocks_shapes_and_key_layout():
    up = up_block(16, 8)
    assert up(torch.zeros(2, 16, 4, 4)).shape == (2, 8, 8, 8)
    assert sorted(up.state_dict())[:2] == ["1.weight", "2.bias"]  # conv at 1, BN at 2 (checkpoint keys)
    res = ResBlock(6)
    assert {k.split(".")[1] for k in res.state_dict()} == {"0", "1", "3", "4"}
    x = torch.randn(2, 6, 4, 4)
    res.eval()
    with torch.no_grad():
        assert torch.allclose(res(x) - x, res.block(x), atol=1e-6)


def test_legacy_mask_is_the_tiled_row_order():
    mask = torch.tensor([[False, True, True], [False, False, True]])
    queries = 3
    legacy = expand_word_mask(mask, queries, "legacy")
    for b in range(2):
        for q in range(queries):
            assert legacy[b, q].tolist() == mask[(b * queries + q) % 2].tolist()
    correct = expand_word_mask(mask, queries, "correct")
    assert all(correct[b, q].tolist() == mask[b].tolist() for b in range(2) for q in range(queries))
    with pytest.raises(ValueError, match="mask mode"):
        expand_word_mask(mask, queries, "sideways")


def test_word_attention_masks_padding_and_sums_to_one():
    torch.manual_seed(0)
    att = WordAttention(channels=4, word_dim=6)
    words = torch.randn(3, 5, 6)
    mask = torch.tensor([[False] * 5, [False, False, True, True, True], [False] * 3 + [True] * 2])
    ctx, maps = att(torch.randn(3, 4, 2, 2), words, mask)
    assert ctx.shape == (3, 4, 2, 2) and maps.shape == (3, 5, 2, 2)
    assert torch.allclose(maps.sum(1), torch.ones(3, 2, 2), atol=1e-6)
    assert (maps[1, 2:] == 0).all() and (maps[2, 3:] == 0).all()
    assert (maps[0] > 0).all()


def test_word_attention_legacy_differs_only_with_mixed_lengths():
    torch.manual_seed(1)
    query, context = torch.randn(2, 4, 2, 2), torch.randn(2, 4, 5)
    mixed = torch.tensor([[False] * 5, [False, False, True, True, True]])
    a, _ = word_attention(query, context, mixed, "correct")
    b, _ = word_attention(query, context, mixed, "legacy")
    assert not torch.allclose(a, b)
    same = torch.tensor([[False, False, False, True, True]] * 2)
    a, _ = word_attention(query, context, same, "correct")
    b, _ = word_attention(query, context, same, "legacy")
    assert torch.equal(a, b)


def test_word_attention_empty_caption_gives_no_nan_in_correct_mode():
    mask = torch.tensor([[True, True, True]])
    ctx, maps = word_attention(torch.randn(1, 4, 2, 2), torch.zeros(1, 4, 3), mask, "correct")
    assert torch.isfinite(ctx).all() and torch.isfinite(maps).all()


def test_tiny_image_encoder_shapes_and_frozen_trunk():
    enc = DAMSMImageEncoder(embed_dim=16, backbone="tiny", input_size=32, freeze_trunk=True)
    regions, code = enc(torch.rand(3, 3, 64, 64) * 2 - 1)  # resized to 32 first
    assert regions.shape == (3, 16, 8, 8) and code.shape == (3, 16)
    trainable = {n.split(".")[0] for n, p in enc.named_parameters() if p.requires_grad}
    assert trainable == {"emb_features", "emb_cnn_code"}
    with pytest.raises(ValueError, match="backbone"):
        DAMSMImageEncoder(backbone="resnet")


def test_image_encoder_save_and_load(tmp_path):
    enc = DAMSMImageEncoder(embed_dim=8, backbone="tiny", input_size=32, tiny_width=4)
    enc.save_pretrained(tmp_path / "damsm")
    again = DAMSMImageEncoder.from_pretrained(tmp_path / "damsm").eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(enc.eval()(x)[1], again(x)[1])


def test_inception_encoder_keeps_cnn_encoder_module_names():
    enc = DAMSMImageEncoder()
    top = {k.split(".")[0] for k in enc.state_dict()}
    assert top == {n for n in INCEPTION_TRUNK if n != "pool"} | {"emb_features", "emb_cnn_code"}
    assert enc.state_dict()["emb_features.weight"].shape == (256, 768, 1, 1)
    assert enc.state_dict()["emb_cnn_code.weight"].shape == (256, 2048)
    assert "Mixed_6e.branch7x7dbl_5.bn.running_var" in enc.state_dict()


def _loop_words_similarity(regions, words, lengths, gamma1, gamma2):
    """Eq. 7-10 computed one word and one region at a time (a slow, obvious re-statement)."""
    b = regions.shape[0]
    flat = regions.flatten(2)  # B x D x S
    sim = torch.zeros(b, b)
    for j in range(b):  # image
        for i in range(b):  # caption
            total = 0.0
            for t in range(int(lengths[i])):
                e = words[i, t]
                s = flat[j].t() @ e  # per region
                # eq. 8 normalises over the words of the caption for each region
                s_all = flat[j].t() @ words[i, : int(lengths[i])].t()  # S x T
                s_norm = torch.softmax(s_all, dim=1)[:, t]
                alpha = torch.softmax(gamma1 * s_norm, dim=0)
                c = flat[j] @ alpha
                del s
                total += math.exp(gamma2 * float(torch.cosine_similarity(c, e, dim=0)))
            sim[j, i] = math.log(total)
    return sim


def test_words_loss_matches_a_loop_restatement():
    torch.manual_seed(0)
    regions, words = torch.randn(3, 8, 2, 2), torch.randn(3, 4, 8)
    lengths = torch.tensor([4, 2, 3])
    sim = _loop_words_similarity(regions, words, lengths, 4.0, 5.0) * 10.0
    labels = torch.arange(3)
    expected0 = torch.nn.functional.cross_entropy(sim, labels)
    expected1 = torch.nn.functional.cross_entropy(sim.t(), labels)
    w0, w1, maps = words_loss(regions, words, lengths)
    assert torch.allclose(w0, expected0, atol=1e-4) and torch.allclose(w1, expected1, atol=1e-4)
    assert [m.shape[1] for m in maps] == [4, 2, 3]


def test_sentence_loss_prefers_matching_pairs_and_masks_classes():
    torch.manual_seed(0)
    codes = torch.randn(4, 16)
    aligned = sum(sentence_loss(codes, codes + 0.01 * torch.randn(4, 16)))
    shuffled = sum(sentence_loss(codes, codes[[1, 2, 3, 0]]))
    assert aligned < shuffled
    mask = class_mask([0, 0, 1, 2])
    assert mask.tolist()[0] == [False, True, False, False] and not mask.diagonal().any()
    s0, _ = sentence_loss(codes, codes[[1, 0, 2, 3]], class_ids=[0, 0, 1, 2])
    s0_free, _ = sentence_loss(codes, codes[[1, 0, 2, 3]])
    assert torch.isfinite(s0) and s0 != s0_free


def test_damsm_losses_give_gradients_to_both_sides():
    enc = DAMSMImageEncoder(embed_dim=8, backbone="tiny", input_size=32, tiny_width=4, freeze_trunk=False)
    words = torch.randn(2, 3, 8, requires_grad=True)
    regions, code = enc(torch.rand(2, 3, 32, 32))
    w0, w1, _ = words_loss(regions, words, torch.tensor([3, 2]))
    s0, s1 = sentence_loss(code, words.mean(1))
    (w0 + w1 + s0 + s1).backward()
    assert words.grad is not None and enc.block1[0].weight.grad is not None
