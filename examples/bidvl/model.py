"""BiDVL's networks (Kan et al., CVPR 2022; its released code's DCGAN-style
nets) scaled to 28x28 Fashion-MNIST in [0, 1], for examples/bidvl/export.py:

- MarginalEnergy E(v): three strided convolutions (28 -> 14 -> 7 -> 4) with
  LeakyReLU(0.2), a linear map to one number and a softplus (the released
  code's default energy activation), so E >= 0;
- Encoder q(h|v) = N(mu, exp(logstd)^2): two strided convolutions and a
  linear map to (mu, logstd);
- Generator G(h): a linear map to 64x7x7, two transposed convolutions
  (7 -> 14 -> 28) with ReLU, and a sigmoid (pixels in [0, 1]).

Spectral normalisation of the energy network is not used (bism does not
build it yet). Rows are flat 784-pixel images as bism's data sets give
them.
"""

import torch
import torch.nn as nn


class MarginalEnergy(nn.Module):
    def __init__(self, channels=(32, 64, 128)):
        super().__init__()
        c1, c2, c3 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c1, c2, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c2, c3, 3, 2, 1), nn.LeakyReLU(0.2))
        self.out = nn.Linear(c3 * 4 * 4, 1)

    def forward(self, v):
        x = self.features(v.view(-1, 1, 28, 28)).flatten(1)
        return nn.functional.softplus(self.out(x)).squeeze(1)


class Encoder(nn.Module):
    def __init__(self, latent=32, channels=(32, 64)):
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c1, c2, 4, 2, 1), nn.LeakyReLU(0.2))
        self.mean = nn.Linear(c2 * 7 * 7, latent)
        self.logstd = nn.Linear(c2 * 7 * 7, latent)

    def forward(self, v):
        x = self.features(v.view(-1, 1, 28, 28)).flatten(1)
        return self.mean(x), self.logstd(x)


class Generator(nn.Module):
    def __init__(self, latent=32, channels=(64, 32)):
        super().__init__()
        c1, c2 = channels
        self.c1 = c1
        self.project = nn.Linear(latent, c1 * 7 * 7)
        self.up = nn.Sequential(
            nn.ReLU(), nn.ConvTranspose2d(c1, c2, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(c2, 1, 4, 2, 1), nn.Sigmoid())

    def forward(self, h):
        x = self.project(h).view(-1, self.c1, 7, 7)
        return self.up(x).flatten(1)
