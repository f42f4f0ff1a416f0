"""An independent, functional re-statement of taming-transformers' VQGAN for the converter tests.

It works directly on a state dict in taming's key layout (``encoder.down.{i}.block.{j}.conv1``,
``decoder.up.{i}.attn.{j}.q``, ``quantize.embedding``, ...) with plain ``torch.nn.functional``
calls, written from the architecture description (GroupNorm eps 1e-6, swish, asymmetric pad
before the stride-2 conv, nearest x2 upsampling, single-head attention with 1x1-conv q/k/v,
decoder levels counted from the highest resolution with ``num_res_blocks + 1`` blocks). It
shares no code with diffusers or with the converter, so agreement is evidence of a right mapping.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def random_taming_state_dict(
    ch: int, ch_mult: tuple[int, ...], num_res_blocks: int, attn_levels: set[int], z_channels: int,
    embed_dim: int, n_embed: int, in_channels: int = 3, out_ch: int = 3, seed: int = 0,
    with_loss_keys: bool = True,
) -> dict[str, torch.Tensor]:
    """Random tensors with taming's exact key names and shapes for the given ddconfig."""
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}

    def conv(name: str, cin: int, cout: int, k: int) -> None:
        sd[f"{name}.weight"] = torch.randn(cout, cin, k, k, generator=g) * (1.0 / (cin * k * k)) ** 0.5
        sd[f"{name}.bias"] = torch.randn(cout, generator=g) * 0.05

    def norm(name: str, c: int) -> None:
        sd[f"{name}.weight"] = 1 + 0.1 * torch.randn(c, generator=g)
        sd[f"{name}.bias"] = 0.1 * torch.randn(c, generator=g)

    def res(name: str, cin: int, cout: int) -> None:
        norm(f"{name}.norm1", cin)
        conv(f"{name}.conv1", cin, cout, 3)
        norm(f"{name}.norm2", cout)
        conv(f"{name}.conv2", cout, cout, 3)
        if cin != cout:
            conv(f"{name}.nin_shortcut", cin, cout, 1)

    def attn(name: str, c: int) -> None:
        norm(f"{name}.norm", c)
        for p in ("q", "k", "v", "proj_out"):
            conv(f"{name}.{p}", c, c, 1)

    n = len(ch_mult)
    conv("encoder.conv_in", in_channels, ch, 3)
    block_in = ch
    for i in range(n):
        block_out = ch * ch_mult[i]
        for j in range(num_res_blocks):
            res(f"encoder.down.{i}.block.{j}", block_in, block_out)
            block_in = block_out
            if i in attn_levels:
                attn(f"encoder.down.{i}.attn.{j}", block_in)
        if i != n - 1:
            conv(f"encoder.down.{i}.downsample.conv", block_in, block_in, 3)
    res("encoder.mid.block_1", block_in, block_in)
    attn("encoder.mid.attn_1", block_in)
    res("encoder.mid.block_2", block_in, block_in)
    norm("encoder.norm_out", block_in)
    conv("encoder.conv_out", block_in, z_channels, 3)
    conv("quant_conv", z_channels, embed_dim, 1)
    sd["quantize.embedding.weight"] = torch.randn(n_embed, embed_dim, generator=g)
    conv("post_quant_conv", embed_dim, z_channels, 1)
    block_in = ch * ch_mult[-1]
    conv("decoder.conv_in", z_channels, block_in, 3)
    res("decoder.mid.block_1", block_in, block_in)
    attn("decoder.mid.attn_1", block_in)
    res("decoder.mid.block_2", block_in, block_in)
    for i in reversed(range(n)):
        block_out = ch * ch_mult[i]
        for j in range(num_res_blocks + 1):
            res(f"decoder.up.{i}.block.{j}", block_in, block_out)
            block_in = block_out
            if i in attn_levels:
                attn(f"decoder.up.{i}.attn.{j}", block_in)
        if i != 0:
            conv(f"decoder.up.{i}.upsample.conv", block_in, block_in, 3)
    norm("decoder.norm_out", block_in)
    conv("decoder.conv_out", block_in, out_ch, 3)
    if with_loss_keys:  # the training losses live in the same checkpoint and must be dropped
        sd["loss.logvar"] = torch.zeros(())
        sd["loss.discriminator.main.0.weight"] = torch.randn(64, 3, 4, 4, generator=g)
        sd["loss.perceptual_loss.lin0.model.1.weight"] = torch.randn(1, 64, 1, 1, generator=g)
    return sd


class TamingReference:
    """taming's VQGAN forward, functionally, from a taming-layout state dict."""

    def __init__(self, sd: dict[str, torch.Tensor], ch_mult: tuple[int, ...], num_res_blocks: int, groups: int) -> None:
        self.sd, self.n, self.nrb, self.groups = sd, len(ch_mult), num_res_blocks, groups

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.group_norm(x, self.groups, self.sd[f"{name}.weight"], self.sd[f"{name}.bias"], eps=1e-6)

    def _conv(self, x: torch.Tensor, name: str, stride: int = 1, padding: int = 1) -> torch.Tensor:
        return F.conv2d(x, self.sd[f"{name}.weight"], self.sd[f"{name}.bias"], stride=stride, padding=padding)

    def _res(self, x: torch.Tensor, name: str) -> torch.Tensor:
        h = self._conv(F.silu(self._norm(x, f"{name}.norm1")), f"{name}.conv1")
        h = self._conv(F.silu(self._norm(h, f"{name}.norm2")), f"{name}.conv2")
        if f"{name}.nin_shortcut.weight" in self.sd:
            x = self._conv(x, f"{name}.nin_shortcut", padding=0)
        return x + h

    def _attn(self, x: torch.Tensor, name: str) -> torch.Tensor:
        h = self._norm(x, f"{name}.norm")
        b, c, hh, ww = x.shape
        q = self._conv(h, f"{name}.q", padding=0).reshape(b, c, -1)
        k = self._conv(h, f"{name}.k", padding=0).reshape(b, c, -1)
        v = self._conv(h, f"{name}.v", padding=0).reshape(b, c, -1)
        w = torch.softmax(torch.einsum("bci,bcj->bij", q, k) * c ** -0.5, dim=-1)  # [b, query, key]
        out = torch.einsum("bcj,bij->bci", v, w).reshape(b, c, hh, ww)
        return x + self._conv(out, f"{name}.proj_out", padding=0)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = self._conv(x, "encoder.conv_in")
        for i in range(self.n):
            for j in range(self.nrb):
                h = self._res(h, f"encoder.down.{i}.block.{j}")
                if f"encoder.down.{i}.attn.{j}.q.weight" in self.sd:
                    h = self._attn(h, f"encoder.down.{i}.attn.{j}")
            if i != self.n - 1:
                h = self._conv(F.pad(h, (0, 1, 0, 1)), f"encoder.down.{i}.downsample.conv", stride=2, padding=0)
        h = self._res(h, "encoder.mid.block_1")
        h = self._attn(h, "encoder.mid.attn_1")
        h = self._res(h, "encoder.mid.block_2")
        h = self._conv(F.silu(self._norm(h, "encoder.norm_out")), "encoder.conv_out")
        return self._conv(h, "quant_conv", padding=0)

    def quantize(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cb = self.sd["quantize.embedding.weight"]
        flat = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])
        idx = torch.cdist(flat.double(), cb.double()).argmin(1)
        zq = cb[idx].view(z.shape[0], z.shape[2], z.shape[3], -1).permute(0, 3, 1, 2)
        return zq, idx.view(z.shape[0], z.shape[2], z.shape[3])

    def decode(self, zq: torch.Tensor) -> torch.Tensor:
        h = self._conv(self._conv(zq, "post_quant_conv", padding=0), "decoder.conv_in")
        h = self._res(h, "decoder.mid.block_1")
        h = self._attn(h, "decoder.mid.attn_1")
        h = self._res(h, "decoder.mid.block_2")
        for i in reversed(range(self.n)):
            for j in range(self.nrb + 1):
                h = self._res(h, f"decoder.up.{i}.block.{j}")
                if f"decoder.up.{i}.attn.{j}.q.weight" in self.sd:
                    h = self._attn(h, f"decoder.up.{i}.attn.{j}")
            if i != 0:
                h = self._conv(F.interpolate(h, scale_factor=2.0, mode="nearest"), f"decoder.up.{i}.upsample.conv")
        return self._conv(F.silu(self._norm(h, "decoder.norm_out")), "decoder.conv_out")
