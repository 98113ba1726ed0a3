#!/usr/bin/env python3
"""Exports examples/bidvl/model.py's marginal energy, encoder and generator
to ONNX for examples/bidvl/fashion_mnist.mlir:

    python3 examples/bidvl/export.py [--small]

needs torch and onnx (`pip install torch onnx`; bench/compare/run.sh
installs both into bench/compare/.venv). Writes energy.onnx, encoder.onnx
and generator.onnx next to this script (git-ignored; rerun to make them),
with a symbolic batch dimension and PyTorch's parameter names. --small
halves the channels, for quick runs.
"""

import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
from model import Encoder, Generator, MarginalEnergy  # noqa: E402
from torch_onnx import export_next_to  # noqa: E402

LATENT = 32


def export(name, model, inputs, input_names, output_names):
    export_next_to(HERE, name, model, inputs, input_names, output_names)


def main():
    small = sys.argv[1:] == ["--small"]
    torch.manual_seed(0)
    v, h = torch.rand(100, 784), torch.randn(100, LATENT)
    energy = MarginalEnergy((16, 32, 64) if small else (32, 64, 128))
    encoder = Encoder(LATENT, (16, 32) if small else (32, 64))
    generator = Generator(LATENT, (32, 16) if small else (64, 32))
    export("energy", energy, [v], ["v"], ["energy"])
    export("encoder", encoder, [v], ["v"], ["mean", "logstd"])
    export("generator", generator, [h], ["h"], ["v"])


if __name__ == "__main__":
    main()
