#!/usr/bin/env python3
"""Writes examples/deep/model.py's deep image EBLVM in the bism dialect
(issue 14): the ResNet energy and the CNN Gaussian posterior as bism ops,
with a `?` batch dimension, and the bism.model that trains them with
BiMDSM. Python's standard library only.

    python3 examples/deep/make_model.py > examples/deep/fashion_mnist.mlir
    python3 examples/deep/make_model.py --ebm > examples/deep/fashion_mnist_ebm.mlir
    python3 examples/deep/make_model.py --size 8 --channels 4,8,8 --k 1 \\
        --latent 3 --hidden 5 --out 4 --posterior-channels 4,8,8 \\
        --name resnet_small > test/unit/data/deep/resnet_small.mlir

The layers, their order and their initialisation are PyTorch's (nn.Conv2d,
nn.Linear: U(±1/√fan_in) for weights and biases), so the two paths start
from the same distribution; linear weights are stored [in, out] (bism
multiplies rows by them), PyTorch's transposed. Parameter names follow
PyTorch's with `_` for `.`: blocks_0_conv1_weight, g3_bias, ...

--ebm writes the paper's baseline instead (its Table 2): the fully visible
energy F(v) = ‖g3(g1(v))‖² with the same g1 and g3, trained by MDSM on the
exact score (method "marginal").
"""

import argparse
import math


class Writer:
    def __init__(self, dtype):
        self.dtype = dtype
        self.lines = []
        self.count = 0

    def t(self, *shape):
        dims = "x".join("?" if d is None else str(d) for d in shape)
        return f"tensor<{dims}x{self.dtype}>" if shape else f"tensor<{self.dtype}>"

    def fresh(self, hint):
        self.count += 1
        return f"%{hint}{self.count}"

    def op(self, hint, text):
        name = self.fresh(hint)
        self.lines.append(f"  {name} = {text}")
        return name


class Net:
    """Emits one function body; records its parameters in order."""

    def __init__(self, writer, prefix=""):
        self.w = writer
        self.params = []  # (name, shape, bound)
        self.prefix = prefix

    def param(self, name, shape, fan_in):
        name = self.prefix + name
        self.params.append((name, shape, 1.0 / math.sqrt(fan_in)))
        return "%" + name

    def conv(self, x, shape, name, c_out, kernel, stride, pad):
        """x: [?, C, H, W] -> [?, c_out, H', W'] with bias."""
        w = self.w
        _, c, h, wd = shape
        weight = self.param(name + "_weight", (c_out, c, kernel, kernel),
                            c * kernel * kernel)
        bias = self.param(name + "_bias", (c_out,), c * kernel * kernel)
        ho = (h + 2 * pad - kernel) // stride + 1
        wo = (wd + 2 * pad - kernel) // stride + 1
        out = (None, c_out, ho, wo)
        y = w.op("conv", f"bism.conv2d {x}, {weight} {{strides = array<i64: "
                 f"{stride}, {stride}>, padding = array<i64: {pad}, {pad}, "
                 f"{pad}, {pad}>}} : {w.t(*shape)}, "
                 f"{w.t(c_out, c, kernel, kernel)} -> {w.t(*out)}")
        b3 = w.op("bias", f"bism.reshape {bias} : {w.t(c_out)} to "
                  f"{w.t(c_out, 1, 1)}")
        bb = w.op("bias", f"bism.broadcast {b3} : {w.t(c_out, 1, 1)} to "
                  f"{w.t(*out)}")
        return w.op("conv", f"bism.add {y}, {bb} : {w.t(*out)}"), out

    def elu(self, x, shape):
        return self.w.op("elu", f"bism.elu {x} : {self.w.t(*shape)}")

    def linear(self, x, n_in, n_out, name):
        w = self.w
        weight = self.param(name + "_weight", (n_in, n_out), n_in)
        bias = self.param(name + "_bias", (n_out,), n_in)
        y = w.op("fc", f"bism.matmul {x}, {weight} : {w.t(None, n_in)}, "
                 f"{w.t(n_in, n_out)} -> {w.t(None, n_out)}")
        bb = w.op("bias", f"bism.broadcast {bias} : {w.t(n_out)} to "
                  f"{w.t(None, n_out)}")
        return w.op("fc", f"bism.add {y}, {bb} : {w.t(None, n_out)}")


def energy(w, a, visible_only=False):
    net = Net(w)
    s = a.size
    x = w.op("image", f"bism.reshape %v : {w.t(None, s * s)} to "
             f"{w.t(None, 1, s, s)}")
    x, shape = net.conv(x, (None, 1, s, s), "stem", a.channels[0], 3, 1, 1)
    x = net.elu(x, shape)
    index = 0
    for stage, c in enumerate(a.channels):
        for b in range(a.k):
            stride = 2 if stage and not b else 1
            name = f"blocks_{index}"
            y, out = net.conv(x, shape, name + "_conv1", c, 3, stride, 1)
            y = net.elu(y, out)
            y, out = net.conv(y, out, name + "_conv2", c, 3, 1, 1)
            if stride != 1 or shape[1] != c:
                skip, _ = net.conv(x, shape, name + "_shortcut", c, 1, stride, 0)
            else:
                skip = x
            x = w.op("res", f"bism.add {y}, {skip} : {w.t(*out)}")
            x = net.elu(x, out)
            shape = out
            index += 1
    c = shape[1]
    pooled = w.op("pool", f"bism.reduce_mean {x} axes [2, 3] : "
                  f"{w.t(*shape)} -> {w.t(None, c)}")
    f = net.linear(pooled, c, a.latent, "features")
    if visible_only:
        z = net.linear(f, a.latent, a.out, "g3")
        sq = w.op("sq", f"bism.square {z} : {w.t(None, a.out)}")
        e = w.op("e", f"bism.reduce_sum {sq} axes [1] : {w.t(None, a.out)} "
                 f"-> {w.t(None)}")
        w.lines.append(f"  return {e} : {w.t(None)}")
        return net.params
    m = net.linear("%h", a.latent, a.hidden, "m1")
    m = w.op("elu", f"bism.elu {m} : {w.t(None, a.hidden)}")
    m = net.linear(m, a.hidden, a.latent, "m2")
    f = w.op("couple", f"bism.add {f}, {m} : {w.t(None, a.latent)}")
    z = w.op("z", f"bism.concat {f}, %h axis 1 : {w.t(None, a.latent)}, "
             f"{w.t(None, a.latent)} -> {w.t(None, 2 * a.latent)}")
    z = net.linear(z, 2 * a.latent, a.out, "g3")
    sq = w.op("sq", f"bism.square {z} : {w.t(None, a.out)}")
    e = w.op("e", f"bism.reduce_sum {sq} axes [1] : {w.t(None, a.out)} -> "
             f"{w.t(None)}")
    w.lines.append(f"  return {e} : {w.t(None)}")
    return net.params


def posterior(w, a):
    net = Net(w, prefix="q_")
    s = a.size
    x = w.op("image", f"bism.reshape %v : {w.t(None, s * s)} to "
             f"{w.t(None, 1, s, s)}")
    shape = (None, 1, s, s)
    for i, c in enumerate(a.posterior_channels):
        x, shape = net.conv(x, shape, f"conv{i + 1}", c, 3, 2, 1)
        x = net.elu(x, shape)
    flat = shape[1] * shape[2] * shape[3]
    x = w.op("flat", f"bism.reshape {x} : {w.t(*shape)} to {w.t(None, flat)}")
    mean = net.linear(x, flat, a.latent, "mean")
    logstd = net.linear(x, flat, a.latent, "logstd")
    w.lines.append(f"  return {mean}, {logstd} : {w.t(None, a.latent)}, "
                   f"{w.t(None, a.latent)}")
    return net.params


def signature(w, name, inputs, params, results):
    args = [f"%{n}: {t}" for n, t in inputs]
    args += [f"%{n}: {w.t(*shape)}" for n, shape, _ in params]
    return (f"func.func private @{name}(" + ",\n    ".join(args) +
            f")\n    -> {results} {{")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ints = lambda text: [int(x) for x in text.split(",")]  # noqa: E731
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--channels", type=ints, default=[32, 64, 128])
    p.add_argument("--k", type=int, default=2)
    p.add_argument("--latent", type=int, default=50)
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--out", type=int, default=100)
    p.add_argument("--posterior-channels", type=ints, default=[32, 64, 64])
    p.add_argument("--dtype", default="f32")
    p.add_argument("--name", default=None)
    p.add_argument("--ebm", action="store_true",
                   help="the fully visible EBM baseline (method marginal)")
    a = p.parse_args()
    if a.name is None:
        a.name = "deep_ebm" if a.ebm else "deep_eblvm"
    if a.ebm:
        ebm(a)
        return

    w = Writer(a.dtype)
    v, h = w.t(None, a.size * a.size), w.t(None, a.latent)
    body = []
    theta = energy(w, a)
    body += [signature(w, "energy", [("v", v), ("h", h)], theta,
                       w.t(None))] + w.lines + ["}", ""]
    w.lines = []
    phi = posterior(w, a)
    body += [signature(w, "posterior", [("v", v)], phi,
                       f"({h}, {h})")] + w.lines + ["}", ""]

    def refs(params):
        return ", ".join("@" + n for n, _, _ in params)

    command = " ".join(["examples/deep/make_model.py"] + argv())
    print(f"// Generated by {command}: do not edit.")
    print("// The deep image EBLVM of examples/deep/model.py (issue 14) in "
          "the bism dialect.\n")
    print("\n".join(body))
    print(f"bism.model @{a.name}\n"
          f"    energy @energy [{refs(theta)}]\n"
          f"    posterior \"gaussian\" @posterior [{refs(phi)}]\n"
          "    spec {method = \"bism\", objective = \"mdsm\", sigma_min = 0.05,\n"
          "          sigma_max = 0.5, sigma0 = 0.1, divergence = \"fisher\",\n"
          "          inner_steps = 5, unroll_steps = 0, optimizer_theta = \"adam\",\n"
          "          lr_theta = 1.0e-4, optimizer_phi = \"adam\", lr_phi = 1.0e-4,\n"
          "          batch_size = 100, iterations = 20000, seed = 0,\n"
          "          dataset = \"fashion-mnist\"} {")
    for group, params in (("theta", theta), ("phi", phi)):
        for n, shape, bound in params:
            print(f"  bism.param @{n} : {w.t(*shape)} {{group = \"{group}\", "
                  f"init = \"uniform\", low = {-bound!r}, high = {bound!r}}}")
    print("}")


def ebm(a):
    w = Writer(a.dtype)
    theta = energy(w, a, visible_only=True)
    v = w.t(None, a.size * a.size)
    command = " ".join(["examples/deep/make_model.py"] + argv())
    print(f"// Generated by {command}: do not edit.")
    print("// The fully visible EBM baseline of examples/deep/model.py's deep "
          "image EBLVM\n// (issue 14; the BiSM paper's Table 2): F(v) = "
          "‖g3(g1(v))‖², MDSM on the exact score.\n")
    print(signature(w, "free_energy", [("v", v)], theta, w.t(None)))
    print("\n".join(w.lines))
    print("}\n")
    refs = ", ".join("@" + n for n, _, _ in theta)
    print(f"bism.model @{a.name}\n"
          f"    free_energy @free_energy [{refs}]\n"
          "    spec {method = \"marginal\", objective = \"mdsm\", sigma_min = 0.05,\n"
          "          sigma_max = 0.5, sigma0 = 0.1, optimizer_theta = \"adam\",\n"
          "          lr_theta = 1.0e-4, batch_size = 100, iterations = 20000,\n"
          "          seed = 0, dataset = \"fashion-mnist\"} {")
    for n, shape, bound in theta:
        print(f"  bism.param @{n} : {w.t(*shape)} {{group = \"theta\", "
              f"init = \"uniform\", low = {-bound!r}, high = {bound!r}}}")
    print("}")


def argv():
    import sys
    return sys.argv[1:]


if __name__ == "__main__":
    main()
