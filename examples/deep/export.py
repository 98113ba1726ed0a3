#!/usr/bin/env python3
"""Exports examples/deep/model.py's energy and posterior to ONNX for
fashion_mnist_onnx.mlir (issue 14; docs/results.md):

    python3 examples/deep/export.py [--small]

needs torch and onnx (`pip install torch onnx`). Writes energy.onnx and
posterior.onnx next to this script (git-ignored: 2.9 MB of weights; rerun
to make them), taking flat 784-pixel rows as bism's data sets give them,
with a symbolic batch dimension and PyTorch's parameter names. --small
writes a model with a quarter of the channels and one block per stage,
for quick runs.
"""

import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
from model import CnnPosterior, ResNetEnergy  # noqa: E402
from torch_onnx import export_next_to  # noqa: E402


class FlatEnergy(nn.Module):
    """E(v, h) for v as [B, 784] rows."""

    def __init__(self, **sizes):
        super().__init__()
        self.net = ResNetEnergy(**sizes)

    def forward(self, v, h):
        return self.net(v.view(-1, 1, 28, 28), h)


class FlatPosterior(nn.Module):
    """(μ, log σ) of q(h | v) for v as [B, 784] rows."""

    def __init__(self, **sizes):
        super().__init__()
        self.net = CnnPosterior(**sizes)

    def forward(self, v):
        return self.net(v.view(-1, 1, 28, 28))


def export(name, model, inputs, input_names, output_names):
    export_next_to(HERE, name, model, inputs, input_names, output_names)


def main():
    small = sys.argv[1:] == ["--small"]
    energy_sizes = dict(channels=(8, 16, 32), k=1) if small else {}
    posterior_sizes = dict(channels=(8, 16, 16)) if small else {}
    torch.manual_seed(0)
    v, h = torch.rand(100, 784), torch.randn(100, 50)
    export("energy", FlatEnergy(**energy_sizes), [v, h], ["v", "h"],
           ["energy"])
    export("posterior", FlatPosterior(**posterior_sizes), [v], ["v"],
           ["mean", "logstd"])


if __name__ == "__main__":
    main()
