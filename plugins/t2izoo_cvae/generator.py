"""The ``cvae`` generator: q(z|x,c), reparameterisation, p(x|fusion(z, c)), ELBO loss."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

import t2izoo
from t2izoo.types import GeneratorOutput, TextFeatures

from .configs import CVAEConfig

__all__ = ["CVAEGenerator", "CVAELoss", "kl_to_standard_normal"]


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, exp(logvar)) || N(0, I))`` per sample, summed over latent dimensions ``[B]``."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)


@dataclass
class CVAELoss:
    """The terms of the negative ELBO, each averaged over the batch (sums over pixels / dims)."""

    total: torch.Tensor
    reconstruction: torch.Tensor
    kl: torch.Tensor
    images: torch.Tensor  # the reconstructions in [-1, 1]


def _act(slope: float) -> nn.Module:
    return nn.LeakyReLU(slope) if slope > 0 else nn.ReLU()


class CVAEGenerator(t2izoo.Generator):
    """Conditional VAE. Generation: ``z ~ N(0, I)`` (seeded) -> fusion with the text -> decoder.

    Training goes through `loss` (or `reconstruct`), which encodes real images with q(z|x,c).

    Example:
        >>> import t2izoo, torch
        >>> g = t2izoo.create_component("generator", {"name": "cvae", "image_size": 8, "text_dim": 4,
        ...                             "latent_dim": 3, "hidden": [16]})
        >>> text = t2izoo.TextFeatures(words=None, mask=None, sentence=torch.eye(4)[:2])
        >>> g(text, generator=torch.Generator().manual_seed(0)).image.shape
        torch.Size([2, 1, 8, 8])
        >>> x = torch.rand(2, 1, 8, 8) * 2 - 1
        >>> float(g.loss(x, text, noise=torch.zeros(2, 3)).kl.detach()) >= 0
        True
    """

    def __init__(self, config: CVAEConfig, **_: object) -> None:
        super().__init__(config)
        c, size, act = config.image_channels, config.image_size, config.negative_slope
        cond = config.text_dim if config.condition_encoder else 0
        # -- encoder q(z|x,c): image features, then [features; c] -> hidden -> (mu, logvar)
        if config.arch == "mlp":
            self.image_net = nn.Flatten()
            feat = c * size * size
        else:
            layers: list[nn.Module] = []
            cin = c
            for cout in config.channels:
                layers += [nn.Conv2d(cin, cout, 4, stride=2, padding=1)]
                layers += [nn.BatchNorm2d(cout)] if config.batch_norm else []
                layers += [_act(act)]
                cin = cout
            self.image_net = nn.Sequential(*layers, nn.Flatten())
            self._bottom = size // 2 ** len(config.channels)
            feat = cin * self._bottom**2
        self.enc_fc = self._mlp(feat + cond, config.hidden, act)
        width = config.hidden[-1] if config.hidden else feat + cond
        self.fc_mu = nn.Linear(width, config.latent_dim)
        self.fc_logvar = nn.Linear(width, config.latent_dim)
        # -- decoder p(x|z,c): fusion(z, c) -> hidden (reversed) -> pixels
        self.fusion = t2izoo.create_component(
            "fusion", config.fusion, channels=config.latent_dim, sentence_dim=config.text_dim, word_dim=None
        )
        dec_hidden = list(reversed(config.hidden))
        self.dec_fc = self._mlp(self.fusion.out_channels, dec_hidden, act)
        dec_in = dec_hidden[-1] if dec_hidden else self.fusion.out_channels
        if config.arch == "mlp":
            self.to_pixels = nn.Sequential(nn.Linear(dec_in, c * size * size), nn.Unflatten(1, (c, size, size)))
        else:
            widths = list(reversed(config.channels))
            layers = [nn.Linear(dec_in, widths[0] * self._bottom**2), _act(act),
                      nn.Unflatten(1, (widths[0], self._bottom, self._bottom))]
            for cin, cout in zip(widths, [*widths[1:], None]):
                last = cout is None
                layers.append(nn.ConvTranspose2d(cin, c if last else cout, 4, stride=2, padding=1))
                if not last:
                    layers += [nn.BatchNorm2d(cout)] if config.batch_norm else []
                    layers.append(_act(act))
            self.to_pixels = nn.Sequential(*layers)

    @staticmethod
    def _mlp(cin: int, widths: list[int], slope: float) -> nn.Sequential:
        layers: list[nn.Module] = []
        for w in widths:
            layers += [nn.Linear(cin, w), _act(slope)]
            cin = w
        return nn.Sequential(*layers)

    def make_recipe(self, pipeline, **options):  # noqa: ANN001, ANN201 - see t2izoo.training.Recipe
        """The training recipe: the negative ELBO (`t2izoo_cvae.recipe.CVAERecipe`)."""
        from .recipe import CVAERecipe

        return CVAERecipe(pipeline, **options)

    # -- the three parts ------------------------------------------------------------------------
    def encode(self, images: torch.Tensor, text: TextFeatures) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z|x,c): images ``[B,C,H,W]`` in [-1,1] -> ``(mu, logvar)``, each ``[B, latent_dim]``."""
        h = self.image_net(images)
        if self.config.condition_encoder:
            h = torch.cat([h, text.sentence.to(h.dtype)], dim=1)
        h = self.enc_fc(h)
        return self.fc_mu(h), self.fc_logvar(h)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """``z = mu + exp(logvar / 2) * noise`` (noise is given, so the draw is reproducible)."""
        return mu + torch.exp(0.5 * logvar) * noise

    def decode_logits(self, z: torch.Tensor, text: TextFeatures) -> torch.Tensor:
        """p(x|z,c) before the output nonlinearity: ``[B, C, H, W]``."""
        fused = self.fusion(z[:, :, None, None], text).features.flatten(1)
        return self.to_pixels(self.dec_fc(fused))

    def to_image(self, logits: torch.Tensor) -> torch.Tensor:
        """Decoder output -> image in [-1, 1] (sigmoid for ``bce``, tanh for ``mse``)."""
        if self.config.loss == "bce":
            return torch.sigmoid(logits) * 2 - 1
        return torch.tanh(logits)

    def decode(self, z: torch.Tensor, text: TextFeatures) -> torch.Tensor:
        """p(x|z,c) -> images in [-1, 1]."""
        return self.to_image(self.decode_logits(z, text))

    # -- the Generator interface ----------------------------------------------------------------
    def sample_noise(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        param = self.fc_mu.weight
        device = generator.device if generator is not None else param.device
        return torch.randn(batch_size, self.config.latent_dim, generator=generator, device=device).to(param)

    def forward(
        self,
        text: TextFeatures,
        noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        images: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        """Generate from the prior (``z = noise``), or, given ``images``, reconstruct them through
        the posterior (``z = mu + sigma * noise``); ``extras`` then holds ``mu``, ``logvar`` and
        the loss terms ``loss``, ``reconstruction``, ``kl`` (see `loss`)."""
        if noise is None:
            noise = self.sample_noise(text.batch_size, generator)
        if images is None:
            return GeneratorOutput(images=[self.decode(noise, text)], attention=[None], extras={"z": noise})
        mu, logvar = self.encode(images, text)
        z = self.reparameterize(mu, logvar, noise)
        logits = self.decode_logits(z, text)
        if self.config.loss == "bce":
            target = ((images + 1) / 2).clamp(0, 1)
            rec = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        else:
            rec = F.mse_loss(torch.tanh(logits), images, reduction="none")
        rec = rec.flatten(1).sum(1).mean()
        kl = kl_to_standard_normal(mu, logvar).mean()
        extras = {"z": z, "mu": mu, "logvar": logvar, "reconstruction": rec, "kl": kl,
                  "loss": rec + self.config.kl_weight * kl}
        return GeneratorOutput(images=[self.to_image(logits)], attention=[None], extras=extras)

    def loss(self, images: torch.Tensor, text: TextFeatures, noise: torch.Tensor) -> CVAELoss:
        """The negative ELBO on a batch: reconstruction (``bce``/``mse``) + ``kl_weight`` * KL.

        Reconstruction is summed over pixels (BCE against pixels mapped to [0, 1]; squared error
        in [-1, 1]), KL over latent dimensions; both are averaged over the batch.
        """
        out = self(text, noise=noise, images=images)
        e = out.extras
        return CVAELoss(e["loss"], e["reconstruction"], e["kl"], out.image.detach())
