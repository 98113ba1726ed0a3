#!/usr/bin/python3
"""Exports the networks of examples/onnx/checkerboard.mlir from PyTorch.

Run with Debian's interpreter after `apt-get install python3-torch
python3-onnx` (torch 1.13, onnx 1.12; the pyenv `python3` on PATH may lack
them), from anywhere:

    /usr/bin/python3 examples/onnx/export.py

Writes, next to this script (both committed; training needs no Python):
  grbm_energy.onnx    E(v [B,2], h [B,4]) -> [B], a Gaussian-Bernoulli RBM
  mlp_posterior.onnx  v [B,2] -> logits [B,4], a one-hidden-layer MLP
with a symbolic batch dimension (the model file's declarations fix it) and
the parameters as initializers named as in PyTorch (W, b, c, logsigma;
fc1.weight, ...). Deterministic (seed 0).
"""

import os
import sys

import onnx
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


class GrbmEnergy(nn.Module):
    """E(v, h) = 1/2 sum_i (v_i - b_i)^2 exp(-2 logsigma_i) - (v W + c).h

    Initialised as examples/grbm/checkerboard.mlir initialises its GRBM; the
    model file declares these parameters itself (to share them with the free
    energy, the Gibbs sweep and component_log_mass written there), so its
    initialisers are the ones used.
    """

    def __init__(self, visible=2, latent=4):
        super().__init__()
        self.W = nn.Parameter(3.0 * torch.randn(visible, latent))
        self.b = nn.Parameter(torch.full((visible,), 0.5))
        self.c = nn.Parameter(torch.zeros(latent))
        self.logsigma = nn.Parameter(torch.full((visible,), -1.0))

    def forward(self, v, h):
        precision = torch.exp(-2.0 * self.logsigma)
        quadratic = 0.5 * ((v - self.b) ** 2 * precision).sum(dim=-1)
        interaction = ((v @ self.W + self.c) * h).sum(dim=-1)
        return quadratic - interaction


class MlpPosterior(nn.Module):
    """Logits of q(h | v): fc2(tanh(fc1(v))), PyTorch's default initialisation
    (the model file starts from these values)."""

    def __init__(self, visible=2, hidden=16, latent=4):
        super().__init__()
        self.fc1 = nn.Linear(visible, hidden)
        self.fc2 = nn.Linear(hidden, latent)

    def forward(self, v):
        return self.fc2(torch.tanh(self.fc1(v)))


def export(name, model, inputs, input_names, output_name):
    model.eval()
    path = os.path.join(HERE, name + ".onnx")
    axes = {n: {0: "batch"} for n in input_names + [output_name]}
    # No constant folding: it would fold expressions of parameters alone
    # (exp(-2 logsigma)) into new initializers, which would then train as
    # parameters of their own.
    torch.onnx.export(model, tuple(inputs), path, input_names=input_names,
                      output_names=[output_name], opset_version=17,
                      dynamic_axes=axes, do_constant_folding=False)
    exported = onnx.load(path)
    onnx.checker.check_model(exported)
    names = [t.name for t in exported.graph.initializer]
    params = dict(model.named_parameters())
    if sorted(names) != sorted(params):
        sys.exit(f"{name}: initializers {names} are not the parameters "
                 f"{sorted(params)}")
    print(f"{name}.onnx: initializers {names}, "
          f"ops {sorted({n.op_type for n in exported.graph.node})}")


def main():
    torch.manual_seed(0)
    batch = 100
    v, h = torch.rand(batch, 2), torch.bernoulli(torch.full((batch, 4), 0.5))
    export("grbm_energy", GrbmEnergy(), [v, h], ["v", "h"], "energy")
    export("mlp_posterior", MlpPosterior(), [v], ["v"], "logits")


if __name__ == "__main__":
    main()
