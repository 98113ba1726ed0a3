"""The deep image EBLVM of the BiSM paper (its §5.2; Fig. 1 of the VaGES
paper's appendix), in PyTorch: the reference that examples/deep/export.py
exports to ONNX and scripts/make_onnx_fixtures.py checks bism against.

  E(v, h) = ‖g3(g2(g1(v), h))‖²
  g1: a ResNet of 6k convolutions (3 stages of k residual blocks of two 3x3
      convolutions; the stages halve the image and double the channels),
      then global average pooling and a linear map to the latent size
  g2: an additive coupling, f' = f + m(h) with m a 2-layer MLP, then
      z = [f', h]
  g3: one fully connected layer; the energy is its output's squared norm
  q(h | v) = N(μ(v), diag(exp(s(v))²)), μ and s from a 3-layer CNN

Activations are ELU: score matching differentiates E three times, so a
ReLU network (zero second derivative) would not do.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.shortcut = (nn.Conv2d(c_in, c_out, 1, stride=stride)
                         if stride != 1 or c_in != c_out else None)

    def forward(self, x):
        y = self.conv2(F.elu(self.conv1(x)))
        skip = x if self.shortcut is None else self.shortcut(x)
        return F.elu(y + skip)


class ResNetEnergy(nn.Module):
    """E(v, h) for images v [B, 1, S, S] and latents h [B, latent]."""

    def __init__(self, channels=(32, 64, 128), k=2, latent=50, hidden=100,
                 out=100):
        super().__init__()
        self.stem = nn.Conv2d(1, channels[0], 3, padding=1)
        blocks, c_in = [], channels[0]
        for stage, c in enumerate(channels):
            for b in range(k):
                blocks.append(ResidualBlock(c_in, c, 2 if stage and not b else 1))
                c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.features = nn.Linear(c_in, latent)
        self.m1 = nn.Linear(latent, hidden)
        self.m2 = nn.Linear(hidden, latent)
        self.g3 = nn.Linear(2 * latent, out)

    def forward(self, v, h):
        x = self.blocks(F.elu(self.stem(v)))
        f = self.features(x.mean(dim=(2, 3)))
        f = f + self.m2(F.elu(self.m1(h)))
        z = self.g3(torch.cat([f, h], dim=1))
        return (z * z).sum(dim=1)


class CnnPosterior(nn.Module):
    """(μ, log σ) of q(h | v), each [B, latent]."""

    def __init__(self, channels=(32, 64, 64), latent=50, size=28):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels[0], 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(channels[0], channels[1], 3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(channels[1], channels[2], 3, stride=2, padding=1)
        side = size
        for _ in range(3):
            side = (side + 1) // 2
        self.mean = nn.Linear(channels[2] * side * side, latent)
        self.logstd = nn.Linear(channels[2] * side * side, latent)

    def forward(self, v):
        x = F.elu(self.conv1(v))
        x = F.elu(self.conv2(x))
        x = F.elu(self.conv3(x))
        x = x.flatten(1)
        return self.mean(x), self.logstd(x)
