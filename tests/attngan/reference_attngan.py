"""An independent re-statement of the released AttnGAN forward pass, for parity tests.

Written for these tests from a reading of the original repository's structure (taoxugit/AttnGAN,
``code/model.py`` and ``code/GlobalAttention.py``): the same module names (hence the same
checkpoint keys), the same tensor layouts (words ``[B, D, L]``), the same flattened
``[B*queryL, sourceL]`` attention with the mask tiled by ``repeat(queryL, 1)``, and the same
order of concatenations. It deliberately shares no code with ``t2izoo`` so that a parity test
compares two separate implementations. The conditioning-augmentation noise is an argument here
(the original drew it inside ``CA_NET``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class RefGLU(nn.Module):
    def forward(self, x):
        nc = x.size(1) // 2
        return x[:, :nc] * torch.sigmoid(x[:, nc:])


def ref_conv3x3(cin, cout):
    return nn.Conv2d(cin, cout, kernel_size=3, stride=1, padding=1, bias=False)


def ref_up(cin, cout):
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"), ref_conv3x3(cin, cout * 2), nn.BatchNorm2d(cout * 2), RefGLU()
    )


class RefResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.block = nn.Sequential(
            ref_conv3x3(c, c * 2), nn.BatchNorm2d(c * 2), RefGLU(), ref_conv3x3(c, c), nn.BatchNorm2d(c)
        )

    def forward(self, x):
        out = self.block(x)
        out += x
        return out


class RefRNNEncoder(nn.Module):
    """RNN_ENCODER: ``encoder`` (embedding), ``drop``, ``rnn`` (bi-LSTM); words out as [B, D, L]."""

    def __init__(self, ntoken, ninput=300, nhidden=256):
        super().__init__()
        self.nhidden = nhidden // 2
        self.encoder = nn.Embedding(ntoken, ninput)
        self.drop = nn.Dropout(0.5)
        self.rnn = nn.LSTM(ninput, self.nhidden, 1, batch_first=True, bidirectional=True)

    def forward(self, captions, cap_lens):
        # the original requires captions sorted by decreasing length
        emb = self.drop(self.encoder(captions))
        packed = pack_padded_sequence(emb, cap_lens.tolist(), batch_first=True)
        output, hidden = self.rnn(packed, None)
        output = pad_packed_sequence(output, batch_first=True)[0]
        words_emb = output.transpose(1, 2)
        sent_emb = hidden[0].transpose(0, 1).contiguous().view(-1, self.nhidden * 2)
        return words_emb, sent_emb


class RefAttention(nn.Module):
    """GlobalAttentionGeneral with its mask handling (the tiled mask)."""

    def __init__(self, idf, cdf):
        super().__init__()
        self.conv_context = nn.Conv2d(cdf, idf, kernel_size=1, stride=1, padding=0, bias=False)
        self.mask = None

    def forward(self, inp, context):
        ih, iw = inp.size(2), inp.size(3)
        query_l = ih * iw
        batch_size, source_l = context.size(0), context.size(2)
        target = inp.view(batch_size, -1, query_l)
        target_t = torch.transpose(target, 1, 2).contiguous()
        source_t = self.conv_context(context.unsqueeze(3)).squeeze(3)
        attn = torch.bmm(target_t, source_t)
        attn = attn.view(batch_size * query_l, source_l)
        if self.mask is not None:
            mask = self.mask.repeat(query_l, 1).to(torch.bool)
            attn = attn.masked_fill(mask, -float("inf"))
        attn = F.softmax(attn, dim=1)
        attn = attn.view(batch_size, query_l, source_l)
        attn = torch.transpose(attn, 1, 2).contiguous()
        weighted = torch.bmm(source_t, attn)
        return weighted.view(batch_size, -1, ih, iw), attn.view(batch_size, -1, ih, iw)


class RefCA(nn.Module):
    def __init__(self, t_dim, c_dim):
        super().__init__()
        self.c_dim = c_dim
        self.fc = nn.Linear(t_dim, c_dim * 4, bias=True)
        self.relu = RefGLU()

    def forward(self, sent, eps):
        x = self.relu(self.fc(sent))
        mu, logvar = x[:, : self.c_dim], x[:, self.c_dim :]
        std = logvar.mul(0.5).exp_()
        return eps.mul(std).add_(mu), mu, logvar


class RefInit(nn.Module):
    def __init__(self, ngf, in_dim):
        super().__init__()
        self.gf_dim = ngf
        self.fc = nn.Sequential(nn.Linear(in_dim, ngf * 4 * 4 * 2, bias=False), nn.BatchNorm1d(ngf * 4 * 4 * 2), RefGLU())
        self.upsample1 = ref_up(ngf, ngf // 2)
        self.upsample2 = ref_up(ngf // 2, ngf // 4)
        self.upsample3 = ref_up(ngf // 4, ngf // 8)
        self.upsample4 = ref_up(ngf // 8, ngf // 16)

    def forward(self, z, c):
        out = self.fc(torch.cat((c, z), 1)).view(-1, self.gf_dim, 4, 4)
        return self.upsample4(self.upsample3(self.upsample2(self.upsample1(out))))


class RefNext(nn.Module):
    def __init__(self, ngf, nef, r_num):
        super().__init__()
        self.att = RefAttention(ngf, nef)
        self.residual = nn.Sequential(*[RefResBlock(ngf * 2) for _ in range(r_num)])
        self.upsample = ref_up(ngf * 2, ngf)

    def forward(self, h, c, words, mask):
        self.att.mask = mask
        ctx, att = self.att(h, words)
        return self.upsample(self.residual(torch.cat((h, ctx), 1))), att


class RefImage(nn.Module):
    def __init__(self, ngf):
        super().__init__()
        self.img = nn.Sequential(ref_conv3x3(ngf, 3), nn.Tanh())

    def forward(self, h):
        return self.img(h)


class RefGNet(nn.Module):
    """G_NET with the original attribute names."""

    def __init__(self, ngf=32, nef=256, ncf=100, z_dim=100, branch_num=3, r_num=2):
        super().__init__()
        self.branch_num = branch_num
        self.ca_net = RefCA(nef, ncf)
        self.h_net1 = RefInit(ngf * 16, z_dim + ncf)
        self.img_net1 = RefImage(ngf)
        if branch_num > 1:
            self.h_net2 = RefNext(ngf, nef, r_num)
            self.img_net2 = RefImage(ngf)
        if branch_num > 2:
            self.h_net3 = RefNext(ngf, nef, r_num)
            self.img_net3 = RefImage(ngf)

    def forward(self, z, sent, words, mask, eps):
        c, mu, logvar = self.ca_net(sent, eps)
        imgs, atts = [], []
        h = self.h_net1(z, c)
        imgs.append(self.img_net1(h))
        if self.branch_num > 1:
            h, a = self.h_net2(h, c, words, mask)
            imgs.append(self.img_net2(h))
            atts.append(a)
        if self.branch_num > 2:
            h, a = self.h_net3(h, c, words, mask)
            imgs.append(self.img_net3(h))
            atts.append(a)
        return imgs, atts, mu, logvar


def randomize_(module: nn.Module, seed: int) -> nn.Module:
    """Give every parameter and BN statistic non-trivial values (so eval-mode BN matters)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif name.endswith("running_mean"):
                t.copy_(torch.randn(t.shape, generator=g) * 0.1)
            else:
                t.copy_(torch.randn(t.shape, generator=g) * (0.2 if t.dim() > 1 else 0.1))
    return module


def legacy_state_dict(module: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict as a PyTorch 0.3-era checkpoint holds it (no ``num_batches_tracked``)."""
    return {k: v.clone() for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")}


# Checkpoint key lists of the released models, re-stated independently of any module, for the
# key-layout tests: (key, shape) as functions of the architecture's sizes.
def g_net_keys(ngf: int, nef: int = 256, ncf: int = 100, z_dim: int = 100, branch_num: int = 3, r_num: int = 2):
    keys = {"ca_net.fc.weight": (ncf * 4, nef), "ca_net.fc.bias": (ncf * 4,)}
    g16 = ngf * 16
    keys["h_net1.fc.0.weight"] = (g16 * 32, z_dim + ncf)
    keys.update(_bn("h_net1.fc.1", g16 * 32))
    c = g16
    for i in range(1, 5):
        keys[f"h_net1.upsample{i}.1.weight"] = (c, c, 3, 3)  # conv to 2*(c/2)
        keys.update(_bn(f"h_net1.upsample{i}.2", c))
        c //= 2
    for k in range(1, branch_num + 1):
        keys[f"img_net{k}.img.0.weight"] = (3, ngf, 3, 3)
    for k in range(2, branch_num + 1):
        p = f"h_net{k}"
        keys[f"{p}.att.conv_context.weight"] = (ngf, nef, 1, 1)
        for r in range(r_num):
            keys[f"{p}.residual.{r}.block.0.weight"] = (ngf * 4, ngf * 2, 3, 3)
            keys.update(_bn(f"{p}.residual.{r}.block.1", ngf * 4))
            keys[f"{p}.residual.{r}.block.3.weight"] = (ngf * 2, ngf * 2, 3, 3)
            keys.update(_bn(f"{p}.residual.{r}.block.4", ngf * 2))
        keys[f"{p}.upsample.1.weight"] = (ngf * 2, ngf * 2, 3, 3)
        keys.update(_bn(f"{p}.upsample.2", ngf * 2))
    return keys


def rnn_encoder_keys(ntoken: int, ninput: int = 300, nhidden: int = 256):
    h = nhidden // 2
    keys = {"encoder.weight": (ntoken, ninput)}
    for suffix in ("", "_reverse"):
        keys[f"rnn.weight_ih_l0{suffix}"] = (4 * h, ninput)
        keys[f"rnn.weight_hh_l0{suffix}"] = (4 * h, h)
        keys[f"rnn.bias_ih_l0{suffix}"] = (4 * h,)
        keys[f"rnn.bias_hh_l0{suffix}"] = (4 * h,)
    return keys


def _bn(prefix: str, n: int):
    return {f"{prefix}.{s}": (n,) for s in ("weight", "bias", "running_mean", "running_var")}
