"""Benchmark configurations and the bits of a bism model file the peers need.

Framework-free (numpy only): the PyTorch and JAX peers, and the driver, import
it. A configuration is a model file plus spec overrides; `load(name)` reads
the model file's parameters (shapes, groups, initialisers), its clauses (the
energy's θ order, the posterior's φ order and kind) and its spec, applies the
overrides and fills in the defaults of docs/training.md ("Spec fields").
"""

import os
import re

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

# name -> (model file relative to the repository, family, spec overrides).
# The overrides use the spec's own field names (bism-run's --set takes them,
# and so does the sed-like rewrite of the model file for bism-opt).
CONFIGS = {
    "ck-bidsm-K5N5": ("examples/grbm/checkerboard.mlir", "grbm", {}),
    "frey-bidsm-K5N5": ("examples/grbm/freyface.mlir", "grbm", {}),
    "frey-bidsm-K5N10": ("examples/grbm/freyface.mlir", "grbm",
                         {"unroll_steps": 10}),
    "frey-bissm-K5N5": ("examples/grbm/freyface.mlir", "grbm",
                        {"objective": "ssm"}),
    "frey-vages-dsm-L2": ("examples/grbm/freyface.mlir", "grbm",
                          {"method": "vages", "particles": 2,
                           "unroll_steps": 0}),
    "frey-marginal-dsm": ("examples/grbm/freyface.mlir", "grbm",
                          {"method": "marginal"}),
    "mlp-bidsm-K5N2": ("examples/mlp/fashion_mnist.mlir", "mlp", {}),
    "deep-bimdsm-K5N0": ("examples/deep/fashion_mnist.mlir", "deep", {}),
    "deep-ebm-mdsm": ("examples/deep/fashion_mnist_ebm.mlir", "deep", {}),
}

DEFAULTS = {
    "method": "bism", "objective": "dsm", "noise_std": 0.3,
    "projection": "rademacher", "divergence": "kl", "inner_steps": 5,
    "optimizer_theta": "adam", "optimizer_phi": "adam", "lr_theta": 1e-3,
    "lr_phi": 1e-3, "betas": [0.9, 0.95], "epsilon": 1e-8, "particles": 10,
    "vages_sampling": "hard", "vages_groups": "independent", "noise_schedule": "geometric", "sigma_min": 0.05,
    "sigma_max": 0.5, "sigma0": 0.1,
}


def _value(text):
    text = text.strip()
    if text.startswith('"'):
        return text.strip('"')
    if text.startswith("["):
        return [_value(t) for t in _split(text[1:-1])]
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    return float(text.split(":")[0])


def _split(text):
    """Splits at top-level commas."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    if text[start:].strip():
        out.append(text[start:])
    return out


def _spec_span(text):
    """(start, end) of the text inside `spec { ... }` of bism.model."""
    m = re.search(r"\bspec\s*\{", text)
    if not m:
        raise ValueError("no spec in the model file")
    depth, i = 1, m.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return m.end(), i - 1


def _format(value):
    if isinstance(value, str):
        return '"%s"' % value
    if isinstance(value, list):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    return repr(value)


def rewrite_spec(text, overrides):
    """The model file's text with spec fields set to `overrides` (replaced
    where present, inserted at the front otherwise): bism-opt has no --set."""
    start, end = _spec_span(text)
    body = text[start:end]
    for key, value in overrides.items():
        pattern = re.compile(r"\b%s\s*=\s*(\"[^\"]*\"|\[[^\]]*\]|[^,}]+)" % key)
        if pattern.search(body):
            body = pattern.sub("%s = %s" % (key, _format(value)), body, count=1)
        else:
            body = "%s = %s, " % (key, _format(value)) + body
    return text[:start] + body + text[end:]


class Param:
    def __init__(self, name, shape, dtype, attrs):
        self.name, self.shape, self.dtype, self.attrs = name, shape, dtype, attrs
        self.group = attrs["group"]

    def init(self, rng):
        """A draw from the declared initialiser (the distribution, not
        bism's Philox stream: the check feeds the same values to everyone)."""
        a, shape = self.attrs, self.shape
        kind = a.get("init", "zeros")
        if kind == "zeros":
            x = np.zeros(shape)
        elif kind == "constant":
            x = np.full(shape, a["value"])
        elif kind == "normal":
            x = rng.normal(a.get("mean", 0.0), a["std"], shape)
        elif kind == "uniform":
            x = rng.uniform(a["low"], a["high"], shape)
        elif kind == "kaiming_uniform":
            bound = a.get("gain", 1.0) * np.sqrt(3.0 / shape[0])
            x = rng.uniform(-bound, bound, shape)
        else:
            raise ValueError("initialiser %s of @%s" % (kind, self.name))
        return x.astype(self.dtype)


class Config:
    """One benchmark configuration: the resolved spec, the parameters in the
    step's order, the shapes (B, D, H) and the noise layout."""

    def __init__(self, name):
        rel, self.family, self.overrides = CONFIGS[name]
        self.name = name
        self.model_path = os.path.join(ROOT, rel)
        with open(self.model_path) as f:
            self.text = f.read()
        text = self.text
        start, end = _spec_span(text)
        spec = dict(DEFAULTS)
        for item in _split(text[start:end]):
            key, value = item.split("=", 1)
            spec[key.strip()] = _value(value)
        spec.update(self.overrides)
        if spec["method"] == "vages" and "unroll_steps" not in spec:
            spec["unroll_steps"] = 0
        spec.setdefault("unroll_steps", 5)
        self.spec = spec
        self.method = spec["method"]
        self.objective = spec["objective"]
        self.K = int(spec["inner_steps"])
        self.N = int(spec["unroll_steps"])
        self.L = int(spec["particles"])
        self.sigma = float(spec["noise_std"])
        self.sigma0 = float(spec["sigma0"])
        self.beta1, self.beta2 = (float(b) for b in spec["betas"])
        self.eps_adam = float(spec["epsilon"])
        self.lr_theta, self.lr_phi = float(spec["lr_theta"]), float(spec["lr_phi"])
        for key in ("optimizer_theta", "optimizer_phi"):
            if spec[key] != "adam":
                raise ValueError("%s: the peers implement Adam only" % name)
        if self.objective not in ("dsm", "ssm", "mdsm"):
            raise ValueError("%s: the peers implement dsm, ssm and mdsm only" % name)
        self.divergence = spec["divergence"]
        if self.divergence not in ("kl", "fisher"):
            raise ValueError("%s: the peers implement the KL and Fisher lower levels" % name)
        if self.objective == "ssm" and spec["projection"] != "rademacher":
            raise ValueError("%s: Rademacher projections only" % name)

        params = {}
        for m in re.finditer(
                r"bism\.param\s+@(\w+)\s*:\s*tensor<([0-9x]*?)x?(f32|f64)>\s*\{([^}]*)\}",
                text):
            shape = tuple(int(d) for d in m.group(2).split("x") if d)
            attrs = {}
            for item in _split(m.group(4)):
                key, value = item.split("=", 1)
                attrs[key.strip()] = _value(value)
            params[m.group(1)] = Param(m.group(1), shape,
                                       np.float32 if m.group(3) == "f32" else np.float64,
                                       attrs)

        def clause(keyword):
            m = re.search(r"\b%s\s+@(\w+)\s*\[([^\]]*)\]" % keyword, text)
            if not m:
                return None
            return [p.strip().lstrip("@") for p in m.group(2).split(",") if p.strip()]

        if self.method == "marginal":
            self.theta = [params[n] for n in clause("free_energy")]
            self.phi = []
        else:
            self.theta = [params[n] for n in clause("energy")]
            m = re.search(r'posterior\s+"(\w+)"\s+@\w+\s*\[([^\]]*)\]'
                          r'(?:\s*temperature\s+([0-9.eE+-]+))?', text)
            self.posterior = m.group(1)
            self.temperature = float(m.group(3)) if m.group(3) else 0.1
            self.phi = [params[p.strip().lstrip("@")]
                        for p in m.group(2).split(",") if p.strip()]
        self.dtype = self.theta[0].dtype
        # The batch dimension is `?` (set by the spec's batch_size) or a size.
        # A fully visible EBM (marginal) has only @free_energy(v, θ...): H = 0.
        m = re.search(r"func\.func\s+(?:private\s+)?@energy\(%\w+:\s*tensor<(\d+|\?)x(\d+)x\w+>"
                      r",\s*%\w+:\s*tensor<(?:\d+|\?)x(\d+)x", text)
        if m:
            batch, self.D, self.H = m.group(1), int(m.group(2)), int(m.group(3))
        else:
            m = re.search(r"func\.func\s+(?:private\s+)?@free_energy\(%\w+:\s*"
                          r"tensor<(\d+|\?)x(\d+)x", text)
            batch, self.D, self.H = m.group(1), int(m.group(2)), 0
        self.B = int(spec["batch_size"]) if batch == "?" else int(batch)

    # -- the calling convention of @train_step_with_noise ---------------
    def state_names(self):
        th = [p.name for p in self.theta]
        ph = [p.name for p in self.phi]
        if self.method == "marginal":
            return (["theta." + n for n in th] + ["m_theta." + n for n in th] +
                    ["s_theta." + n for n in th] + ["t_theta"])
        return (["theta." + n for n in th] + ["phi." + n for n in ph] +
                ["m_theta." + n for n in th] + ["s_theta." + n for n in th] +
                ["m_phi." + n for n in ph] + ["s_phi." + n for n in ph] +
                ["t_theta", "t_phi"])

    def metric_names(self):
        if self.method == "marginal":
            return ["J", "grad_norm_theta"]
        return ["J", "lower_before", "lower_after", "grad_norm_theta"]

    def noise_layout(self):
        """[(name, shape, distribution)] in @draw_noise's order."""
        B, D, H = self.B, self.D, self.H
        out = [("u" if self.objective == "ssm" else "eps", (B, D),
                "rademacher" if self.objective == "ssm" else "normal")]
        if self.method == "marginal":
            return out

        def stage(s):
            if self.posterior == "bernoulli":
                return [(s + ".g1", (B, H), "gumbel"), (s + ".g2", (B, H), "gumbel")]
            return [(s + ".xi", (B, H), "normal")]
        for k in range(self.K):
            out += stage("inner%d" % k)
        if self.method == "vages":
            out += stage("lower")
            L = self.L
            for group in self.particle_groups():
                if self.hard_particles():
                    out.append((group + ".u", (L, B, H), "uniform"))
                elif self.posterior == "bernoulli":
                    out += [(group + ".g1", (L, B, H), "gumbel"),
                            (group + ".g2", (L, B, H), "gumbel")]
                else:
                    out.append((group + ".xi", (L, B, H), "normal"))
            return out
        for n in range(self.N):
            out += stage("unroll%d" % n)
        return out + stage("upper")

    def mdsm_sigmas(self):
        """MDSM's σ_b per batch position, in f64 (mdsmSigmas of
        lib/Train/BuildTrainStep.cpp; the step holds them as constants)."""
        s = self.spec
        f = np.arange(self.B) / (self.B - 1) if self.B > 1 else np.zeros(1)
        lo, hi = float(s["sigma_min"]), float(s["sigma_max"])
        if s["noise_schedule"] == "geometric":
            return np.exp(np.log(lo) + f * (np.log(hi) - np.log(lo)))
        return lo + f * (hi - lo)

    def stage_width(self):
        return 2 if self.method != "marginal" and self.posterior == "bernoulli" else 1

    def particle_groups(self):
        """VaGES's particle groups: score, derivative, covariance (as
        published), or one shared group."""
        if self.spec["vages_groups"] == "shared":
            return ["particles"]
        return ["score_particles", "derivative_particles", "covariance_particles"]

    def hard_particles(self):
        return (self.method == "vages" and self.posterior == "bernoulli" and
                self.spec["vages_sampling"] == "hard")

    def initial_state(self, seed=0):
        """Parameters from their initialisers; Adam moments random (so the
        step is not at Adam's degenerate first update, where m̂/√ŝ = sign g)
        and step counts t_theta = 3, t_phi = 3 (K + N + 1)."""
        rng = np.random.default_rng(seed)
        th = [p.init(rng) for p in self.theta]
        ph = [p.init(rng) for p in self.phi]

        def moments(ps):
            m = [(rng.normal(0, 1e-3, p.shape)).astype(p.dtype) for p in ps]
            s = [(rng.uniform(0.5, 1.5, p.shape) * 1e-6).astype(p.dtype) for p in ps]
            return m, s
        m_th, s_th = moments(self.theta)
        m_ph, s_ph = moments(self.phi)
        t = lambda v: np.array(v, dtype=self.dtype)
        if self.method == "marginal":
            return th + m_th + s_th + [t(3.0)]
        return th + ph + m_th + s_th + m_ph + s_ph + [t(3.0), t(3.0 * (self.K + self.N + 1))]

    def batch(self, seed=1):
        return np.random.default_rng(seed).uniform(0, 1, (self.B, self.D)).astype(self.dtype)

    def bism_set_args(self):
        """--set arguments for bism-run train."""
        out = []
        for key, value in self.overrides.items():
            out += ["--set", "%s=%s" % (key, value)]
        return out


def load(name):
    return Config(name)
