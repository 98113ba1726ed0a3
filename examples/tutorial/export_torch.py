#!/usr/bin/env python3
"""The tutorial's model (first_model.mlir) written in PyTorch and exported
to ONNX, for first_model_onnx.mlir (docs/tutorial.md, part 2).

    python3 examples/tutorial/export_torch.py

needs torch and onnx (`pip install torch onnx`); writes energy.onnx and
encoder.onnx next to this script, with a symbolic batch dimension and the
parameters as initializers named as in PyTorch (fc1.weight, logsigma, ...).
"""

import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from torch_onnx import export_with_parameters  # noqa: E402


class Energy(nn.Module):
    """E(v, h) = ½‖h‖² + ½ Σ (v − μ(h))² exp(−2 logσ) + Σ logσ,
    μ(h) = fc2(tanh(fc1(h)))."""

    def __init__(self, visible=2, latent=2, hidden=32):
        super().__init__()
        self.fc1 = nn.Linear(latent, hidden)
        self.fc2 = nn.Linear(hidden, visible)
        self.logsigma = nn.Parameter(torch.zeros(visible))

    def forward(self, v, h):
        mu = self.fc2(torch.tanh(self.fc1(h)))
        fit = ((v - mu) ** 2 * torch.exp(-2.0 * self.logsigma)).sum(dim=-1)
        prior = (h ** 2).sum(dim=-1)
        return 0.5 * (fit + prior) + self.logsigma.sum()


class Encoder(nn.Module):
    """q(h | v) = N(mean, exp(logstd)²) from one hidden tanh layer."""

    def __init__(self, visible=2, latent=2, hidden=32):
        super().__init__()
        self.fc1 = nn.Linear(visible, hidden)
        self.mean = nn.Linear(hidden, latent)
        self.logstd = nn.Linear(hidden, latent)

    def forward(self, v):
        e = torch.tanh(self.fc1(v))
        return self.mean(e), self.logstd(e)


def export(name, model, inputs, input_names, output_names):
    names = export_with_parameters(os.path.join(HERE, name + ".onnx"), model,
                                   inputs, input_names, output_names)
    print(f"{name}.onnx: parameters {names}")


def main():
    torch.manual_seed(0)
    v, h = torch.randn(100, 2), torch.randn(100, 2)
    export("energy", Energy(), [v, h], ["v", "h"], ["energy"])
    export("encoder", Encoder(), [v], ["v"], ["mean", "logstd"])


if __name__ == "__main__":
    main()
