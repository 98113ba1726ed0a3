#!/usr/bin/python3
"""Makes the ONNX fixtures of the importer tests (committed; the test suite
needs neither Python nor torch).

Run with Debian's interpreter after `apt-get install python3-torch
python3-onnx`:

    /usr/bin/python3 scripts/make_onnx_fixtures.py

Writes, under test/unit/data/onnx/:
  MODEL.onnx                 exported with torch.onnx.export (opset 14/17)
  MODEL.in.NAME.npy          each graph input
  MODEL.out.npy              the energy per sample
  MODEL.grad.NAME.npy        d(sum of energies)/d(argument) for every graph
                             input and every initializer, by its ONNX name
and, under test/Import/Inputs/, the binary fixtures of the error tests.

Reference values are computed by PyTorch in float64 from the float32
weights and inputs stored in the model, so they are the exact values of the
float32 model up to float64 rounding; the tests compare the imported float32
function to them.
"""

import copy
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples", "deep"))
from model import CnnPosterior, ResNetEnergy  # noqa: E402
DATA = os.path.join(ROOT, "test", "unit", "data", "onnx")
INPUTS = os.path.join(ROOT, "test", "Import", "Inputs")


class MlpEnergy(nn.Module):
    """E(x) = w3 . softplus(W2 elu(W1 x + b1) + b2) + b3 + |x|^2 / 2."""

    def __init__(self, dim=4, hidden=16):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, 1)

    def forward(self, x):
        h = F.elu(self.fc1(x))
        h = F.softplus(self.fc2(h))
        return self.fc3(h).squeeze(-1) + 0.5 * (x * x).sum(dim=-1)


class Coupling(nn.Module):
    """Additive coupling: the second half moves by a net of the first half."""

    def __init__(self, dim, hidden, swap):
        super().__init__()
        self.swap = swap
        self.fc1 = nn.Linear(dim // 2, hidden)
        self.fc2 = nn.Linear(hidden, dim // 2)

    def forward(self, z):
        a, b = torch.chunk(z, 2, dim=-1)
        if self.swap:
            a, b = b, a
        b = b + self.fc2(F.elu(self.fc1(a)))
        if self.swap:
            a, b = b, a
        return torch.cat([a, b], dim=-1)


class DeepEblvm(nn.Module):
    """The deep EBLVM energy of BiSM: E(v, h) = ||ELU(FC(g2(g1(v), h)))||^2
    with a feature net g1 and additive coupling layers g2 on [g1(v), h]."""

    def __init__(self, visible=6, latent=4, features=4, hidden=8, out=8):
        super().__init__()
        self.feature1 = nn.Linear(visible, hidden)
        self.feature2 = nn.Linear(hidden, features)
        dim = features + latent
        self.couplings = nn.ModuleList(
            [Coupling(dim, hidden, swap=i % 2 == 1) for i in range(2)])
        self.head = nn.Linear(dim, out)

    def forward(self, v, h):
        f = self.feature2(F.elu(self.feature1(v)))
        z = torch.cat([f, h], dim=-1)
        for coupling in self.couplings:
            z = coupling(z)
        return F.elu(self.head(z)).pow(2).sum(dim=-1)


class ConvEnergy(nn.Module):
    """A small conv energy: grouped/strided/dilated convs, a transposed conv,
    pooling, and a torch-style flatten (Shape/Gather/Concat/Reshape)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2)
        self.conv3 = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
        self.deconv = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1,
                                         output_padding=1, groups=2)
        self.fc = nn.Linear(4 * 4 * 4, 8)

    def forward(self, x):
        h = F.softplus(self.conv1(x))
        h = F.elu(self.conv2(h))                       # 8 x 4 x 4
        h = torch.tanh(self.conv3(h))                  # 8 x 4 x 4
        h = F.leaky_relu(self.deconv(h), 0.1)          # 4 x 8 x 8
        h = F.avg_pool2d(h, 2) + F.max_pool2d(h, 2)    # 4 x 4 x 4
        h = h.view(h.size(0), -1)
        e = F.softplus(self.fc(h)).sum(dim=-1)
        return e + 0.5 * x.pow(2).sum(dim=(1, 2, 3))


class OpMix(nn.Module):
    """Many operators in one energy (opset 13: attribute-form reduce axes):
    BatchNormalization (running statistics are non-trainable parameters),
    pooling with padding and ceil_mode, GlobalAveragePool, a batched MatMul,
    Selu, Clip, Softmax, ReduceLogSumExp/Max/Mean, Reciprocal, ..."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-0.5, 0.5)
            self.bn.running_var.uniform_(0.5, 2.0)
            self.bn.weight.uniform_(0.5, 1.5)
            self.bn.bias.uniform_(-0.5, 0.5)
        self.crop = nn.ConvTranspose2d(3, 2, 3, padding=3)  # pads crop the input
        self.w = nn.Parameter(torch.randn(3, 5) * 0.5)
        self.scale = nn.Parameter(torch.rand(5) + 0.5)

    def forward(self, x, y):  # x [N, 2, 6, 6], y [N, 4, 3]
        h = torch.tanh(self.conv(x))
        h = self.bn(torch.sigmoid(h) * 2 - 1)
        g = F.adaptive_avg_pool2d(h, 1).flatten(1)                     # [N, 3]
        a = F.avg_pool2d(h, 3, stride=2, padding=1, ceil_mode=True,
                         count_include_pad=False)                      # [N, 3, 4, 4]
        b = F.avg_pool2d(h, 3, stride=2, padding=1)                    # [N, 3, 3, 3]
        c = F.max_pool2d(h, 2, stride=2, ceil_mode=True, padding=1)    # [N, 3, 4, 4]
        d = self.crop(h)                                               # [N, 2, 2, 2]
        m = torch.matmul(y, self.w)                                    # [N, 4, 5]
        m = F.selu(m) + torch.clamp(m, -0.5, 0.5) + torch.sqrt(torch.abs(m) + 1)
        s = torch.softmax(m, dim=-1) * self.scale
        lse = torch.logsumexp(m, dim=1)                                # [N, 5]
        mx = m.amax(dim=1)                                             # [N, 5]
        t = m.permute(0, 2, 1).unsqueeze(1)                            # [N, 1, 5, 4]
        mean = t.mean(dim=(2, 3)).squeeze(1)                           # [N]
        r = torch.reciprocal(1 + m * m).sum(dim=(1, 2))
        e = (s.sum(dim=(1, 2)) + lse.sum(-1) + torch.exp(-mx).sum(-1)
             + g.sum(-1) * mean + a.pow(3).sum(dim=(1, 2, 3))
             + b.sum(dim=(1, 2, 3)) - c.abs().sum(dim=(1, 2, 3)) / 7 + r
             + torch.sigmoid(d).sum(dim=(1, 2, 3)))
        return torch.log(1 + e * e)


class PosteriorProbe(nn.Module):
    """The CNN posterior's two outputs folded into one value per sample
    with random weights, so that the energy test checks both:
    e = Σ a ⊙ μ + Σ b ⊙ log σ."""

    def __init__(self, posterior, latent):
        super().__init__()
        self.posterior = posterior
        self.a = nn.Parameter(torch.randn(latent))
        self.b = nn.Parameter(torch.randn(latent))

    def forward(self, v):
        mean, logstd = self.posterior(v)
        return (mean * self.a).sum(dim=1) + (logstd * self.b).sum(dim=1)


def export(name, model, inputs, input_names, opset, dynamic_batch):
    model.eval()
    path = os.path.join(DATA, name + ".onnx")
    dynamic_axes = None
    if dynamic_batch:
        dynamic_axes = {n: {0: "batch"} for n in input_names + ["energy"]}
    # dynamo=False: the TorchScript exporter (the default before torch 2.9,
    # which made the older fixtures).
    torch.onnx.export(model, tuple(inputs), path, input_names=input_names,
                      output_names=["energy"], opset_version=opset,
                      dynamic_axes=dynamic_axes, do_constant_folding=True,
                      dynamo=False)
    onnx_model = onnx.load(path)
    onnx.checker.check_model(onnx_model)

    # References in float64 from exactly the float32 values in the model.
    reference = {n: torch.tensor(t.detach().numpy(), dtype=torch.float64)
                 for n, t in model.state_dict().items()}
    model64 = copy.deepcopy(model)
    model64.load_state_dict(reference)
    model64 = model64.double().eval()
    params = dict(model64.named_parameters())
    args = [torch.tensor(x.numpy(), dtype=torch.float64, requires_grad=True)
            for x in inputs]
    energy = model64(*args)
    initializers = [t.name for t in onnx_model.graph.initializer]
    buffers = dict(model64.named_buffers())
    missing = [n for n in initializers if n not in params and n not in buffers]
    if missing:
        sys.exit(f"{name}: initializers without a torch parameter: {missing}")
    # Buffers (BatchNorm running statistics) get no gradient reference.
    differentiated = input_names + [n for n in initializers if n in params]
    wrt = args + [params[n] for n in initializers if n in params]
    grads = torch.autograd.grad(energy.sum(), wrt)

    for n, x in zip(input_names, inputs):
        np.save(os.path.join(DATA, f"{name}.in.{n}.npy"), x.numpy())
    np.save(os.path.join(DATA, f"{name}.out.npy"), energy.detach().numpy())
    for n, g in zip(differentiated, grads):
        np.save(os.path.join(DATA, f"{name}.grad.{n}.npy"), g.numpy())
    print(f"{name}: opset {opset}, {len(initializers)} initializers, "
          f"{len(onnx_model.graph.node)} nodes, "
          f"ops {sorted({n.op_type for n in onnx_model.graph.node})}")
    return path


def error_fixtures(mlp_path):
    """Binary models that must fail to import with a clear message."""
    data = open(mlp_path, "rb").read()
    model = onnx.load(mlp_path)
    # Truncated inside the weights: protobuf cannot parse it.
    largest = max(model.graph.initializer, key=lambda t: len(t.raw_data))
    cut = data.find(largest.raw_data) + len(largest.raw_data) // 2
    truncated = data[:cut]
    try:
        onnx.load_from_string(truncated)
        sys.exit("the truncated model still parses")
    except Exception:
        pass
    open(os.path.join(INPUTS, "truncated.onnx"), "wb").write(truncated)

    # An initializer stored externally in a file that does not exist.
    external = onnx.load(mlp_path)
    tensor = external.graph.initializer[0]
    tensor.data_location = onnx.TensorProto.EXTERNAL
    tensor.raw_data = b""
    del tensor.external_data[:]
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "missing_weights.bin"
    open(os.path.join(INPUTS, "missing_external_data.onnx"), "wb").write(
        external.SerializeToString())

    # The same weights stored externally next to the model: imports.
    present = onnx.load(mlp_path)
    tensor = present.graph.initializer[0]
    raw = tensor.raw_data
    tensor.data_location = onnx.TensorProto.EXTERNAL
    tensor.raw_data = b""
    del tensor.external_data[:]
    for key, value in (("location", "external_weights.bin"), ("offset", "16"),
                       ("length", str(len(raw)))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    open(os.path.join(INPUTS, "external_weights.bin"), "wb").write(
        b"\0" * 16 + raw)
    open(os.path.join(INPUTS, "external_data.onnx"), "wb").write(
        present.SerializeToString())


def deep_image_fixtures():
    """examples/deep/model.py at a reduced size: 8x8 images, one residual
    block per stage."""
    torch.manual_seed(14)
    energy = ResNetEnergy(channels=(4, 8, 8), k=1, latent=3, hidden=5, out=4)
    export("resnet_energy", energy,
           [torch.rand(2, 1, 8, 8), torch.randn(2, 3)], ["v", "h"], 17, True)
    probe = PosteriorProbe(CnnPosterior(channels=(4, 8, 8), latent=3, size=8), 3)
    export("cnn_posterior", probe, [torch.rand(2, 1, 8, 8)], ["v"], 17, True)


def main():
    os.makedirs(DATA, exist_ok=True)
    os.makedirs(INPUTS, exist_ok=True)
    # --only deep: just the deep image models' fixtures (the others were
    # made with an older torch; rerunning would rewrite them).
    if sys.argv[1:] == ["--only", "deep"]:
        deep_image_fixtures()
        return
    torch.manual_seed(0)

    mlp = MlpEnergy()
    mlp_path = export("mlp_energy", mlp, [torch.randn(5, 4)], ["x"], 17, True)

    deep = DeepEblvm()
    export("deep_eblvm", deep, [torch.randn(5, 6), torch.randn(5, 4)],
           ["v", "h"], 14, True)

    conv = ConvEnergy()
    export("conv_energy", conv, [torch.randn(2, 1, 8, 8)], ["x"], 17, False)

    mix = OpMix()
    export("op_mix", mix, [torch.randn(3, 2, 6, 6), torch.randn(3, 4, 3)],
           ["x", "y"], 13, False)

    error_fixtures(mlp_path)
    deep_image_fixtures()


if __name__ == "__main__":
    main()
