"""PyTorch peer of bism's training steps (eager, and torch.compile).

The same step as `@train_step_with_noise` of `bism-opt --bism-build-train-step`
(docs/training.md; lib/Train/BuildTrainStep.cpp), configuration-driven:

  BiSM (method "bism"): x = v + σε (DSM) or v (SSM); K plain Adam steps of φ
  on G = mean_b[log q(h|x) + E(x, h)] (θ frozen, fresh posterior noise each);
  J(θ, φᴺ(θ)) through N differentiable Adam steps (torch.autograd.grad with
  create_graph=True, moments copied from the real φ optimiser), the upper
  level's h sampled at stop_gradient(x), s = −∇ₓ Σ_b[E + log q] (h fixed);
  then Adam on θ with ∇θ J.
  VaGES: the same K steps, then the surrogate of docs/training.md over L
  particles (hard Bernoulli / relaxed / Gaussian) of each group (score,
  derivative, covariance; or one shared group).
  Marginal: DSM/SSM/MDSM on s = −∇ₓ Σ_b F(x).
  MDSM: x = v + σ_b ε (σ_b fixed per batch position), J = mean_b
  ½‖s_b/σ_b + ε_b/σ0²‖². Fisher lower level: G = ½ mean_b ‖∇_h (log q + E)‖²
  at the sampled h, differentiated through h(φ) and φ.

Inputs and outputs follow `@train_step_with_noise`: state (θ, φ, m_θ, s_θ,
m_φ, s_φ, t_θ, t_φ), v, noise (in @draw_noise's order) -> state', metrics.
"""

import math

import torch
import torch.nn.functional as F

HALF_LOG_2PI = 0.91893853320467274178


# -- models ---------------------------------------------------------------

class GRBM:
    """E = ½Σ(v−b)² e^{−2 logσ} − cᵀh − Σ(vW)⊙h; logits vA + d;
    F = ½Σ(v−b)² e^{−2 logσ} − Σ softplus(c + vW) (examples/grbm/*.mlir)."""

    @staticmethod
    def energy(v, h, th):
        W, b, c, logsigma = th
        quad = 0.5 * ((v - b) ** 2 * torch.exp(-2.0 * logsigma)).sum(1)
        return quad - ((v @ W + c) * h).sum(1)

    @staticmethod
    def free_energy(v, th):
        W, b, c, logsigma = th
        quad = 0.5 * ((v - b) ** 2 * torch.exp(-2.0 * logsigma)).sum(1)
        return quad - F.softplus(v @ W + c).sum(1)

    @staticmethod
    def posterior(v, ph):
        A, d = ph
        return v @ A + d


class MLP:
    """The deep EBLVM of examples/mlp/fashion_mnist.mlir."""

    @staticmethod
    def energy(v, h, th):
        W1, b1, W2, b2, C1, c1, D1, d1, C2, c2, D2, d2, W3, b3 = th
        f = F.elu(v @ W1 + b1) @ W2 + b2
        hc = h + (F.elu(f @ C1 + c1) @ D1 + d1)
        fc = f + (F.elu(hc @ C2 + c2) @ D2 + d2)
        z = torch.cat([fc, hc], 1)
        return (F.elu(z @ W3 + b3) ** 2).sum(1)

    @staticmethod
    def posterior(v, ph):
        A1, a1, Am, am, As, as_ = ph
        e = F.elu(v @ A1 + a1)
        return e @ Am + am, e @ As + as_


class Deep:
    """The deep image models of examples/deep (make_model.py, from model.py's
    PyTorch modules): a ResNet g1 (stem, residual blocks, mean pooling,
    linear), E(v, h) = ‖g3([g1(v) + m(h), h])‖², the fully visible
    F(v) = ‖g3(g1(v))‖², and a 3-convolution Gaussian posterior. Linear
    weights are [in, out]; the blocks are read off the θ list (make_model.py
    gives a block a 1x1 shortcut exactly where it halves the image)."""

    @staticmethod
    def g1(v, th):
        """(g1(v) [B, latent], the θ after g1's)."""
        side = math.isqrt(v.shape[1])
        x = F.elu(F.conv2d(v.reshape(v.shape[0], 1, side, side), th[0], th[1], padding=1))
        i = 2
        while th[i].dim() == 4:  # a block: conv1, conv2 [, shortcut]
            shortcut = th[i + 4].dim() == 4 and th[i + 4].shape[-1] == 1
            stride = 2 if shortcut else 1
            y = F.elu(F.conv2d(x, th[i], th[i + 1], stride=stride, padding=1))
            y = F.conv2d(y, th[i + 2], th[i + 3], padding=1)
            x = F.elu(y + (F.conv2d(x, th[i + 4], th[i + 5], stride=stride) if shortcut else x))
            i += 6 if shortcut else 4
        return x.mean((2, 3)) @ th[i] + th[i + 1], th[i + 2:]

    @staticmethod
    def energy(v, h, th):
        f, (m1, b1, m2, b2, g3, b3) = Deep.g1(v, th)
        z = torch.cat([f + (F.elu(h @ m1 + b1) @ m2 + b2), h], 1) @ g3 + b3
        return (z * z).sum(1)

    @staticmethod
    def free_energy(v, th):
        f, (g3, b3) = Deep.g1(v, th)
        z = f @ g3 + b3
        return (z * z).sum(1)

    @staticmethod
    def posterior(v, ph):
        side = math.isqrt(v.shape[1])
        x = v.reshape(v.shape[0], 1, side, side)
        for w, b in zip(ph[:-4:2], ph[1:-4:2]):
            x = F.elu(F.conv2d(x, w, b, stride=2, padding=1))
        x = x.flatten(1)
        Am, am, As, as_ = ph[-4:]
        return x @ Am + am, x @ As + as_


FAMILIES = {"grbm": GRBM, "mlp": MLP, "deep": Deep}


def grad(out, inputs, create_graph=False):
    return torch.autograd.grad(out, inputs, create_graph=create_graph)


class Step:
    def __init__(self, cfg):
        self.cfg = cfg
        self.model = FAMILIES[cfg.family]
        self.nt, self.np = len(cfg.theta), len(cfg.phi)
        self.w = cfg.stage_width()
        if cfg.objective == "mdsm":  # [B, 1] σ_b and 1/σ_b, the latter taken in f64 as bism does
            sig = cfg.mdsm_sigmas()
            self.sigmas = torch.from_numpy(sig.astype(cfg.dtype)).reshape(-1, 1)
            self.inv_sigmas = torch.from_numpy((1.0 / sig).astype(cfg.dtype)).reshape(-1, 1)
            self.inv_sigma0_sq = 1.0 / (cfg.sigma0 * cfg.sigma0)

    # -- posterior ----------------------------------------------------------
    def sample(self, x, ph, pn):
        if self.cfg.posterior == "bernoulli":
            logits = self.model.posterior(x, ph)
            return torch.sigmoid((logits + (pn[0] - pn[1])) / self.cfg.temperature)
        mu, logstd = self.model.posterior(x, ph)
        return mu + torch.exp(logstd) * pn[0]

    def log_q(self, x, h, ph):
        if self.cfg.posterior == "bernoulli":
            logits = self.model.posterior(x, ph)
            return (h * logits - F.softplus(logits)).sum(1)
        mu, logstd = self.model.posterior(x, ph)
        z = (h - mu) * torch.exp(-logstd)
        return (-0.5 * z * z - logstd - HALF_LOG_2PI).sum(1)

    def neg_log_joint(self, x, h, th, ph):
        return self.model.energy(x, h, th).sum() + self.log_q(x, h, ph).sum()

    def lower(self, th, ph, x, pn):
        h = self.sample(x, ph, pn)
        if self.cfg.divergence == "kl":
            return (self.log_q(x, h, ph) + self.model.energy(x, h, th)).mean()
        if not h.requires_grad:  # a metric: nothing else to differentiate
            h = h.requires_grad_()
        gh = grad(self.neg_log_joint(x, h, th, ph), h, create_graph=True)[0]
        return (0.5 * (gh * gh).sum(1)).mean()

    def lower_metric(self, th, ph, x, pn):
        """G without a graph in θ, φ (Fisher still differentiates in h)."""
        with torch.enable_grad():
            return self.lower([p.detach() for p in th], [p.detach() for p in ph],
                              x.detach(), pn).detach()

    # -- Adam (identical in the plain and the differentiable steps) ------
    def adam(self, ps, ms, ss, t, gs, lr):
        c = self.cfg
        t = t + 1.0
        bc1 = 1.0 - torch.pow(torch.tensor(c.beta1, dtype=t.dtype), t)
        bc2 = 1.0 - torch.pow(torch.tensor(c.beta2, dtype=t.dtype), t)
        out_p, out_m, out_s = [], [], []
        for p, m, s, g in zip(ps, ms, ss, gs):
            m = c.beta1 * m + (1.0 - c.beta1) * g
            s = c.beta2 * s + (1.0 - c.beta2) * (g * g)
            p = p - lr * ((m / bc1) / (torch.sqrt(s / bc2) + c.eps_adam))
            out_p.append(p)
            out_m.append(m)
            out_s.append(s)
        return out_p, out_m, out_s, t

    def plain_phi_step(self, th, ph, m, s, t, x, pn):
        ph = [p.detach().requires_grad_() for p in ph]
        g = grad(self.lower(th, ph, x, pn), ph)
        with torch.no_grad():
            return self.adam([p.detach() for p in ph], m, s, t, g, self.cfg.lr_phi)

    def unrolled_phi_step(self, th, ph, m, s, t, x, pn):
        g = grad(self.lower(th, ph, x, pn), ph, create_graph=True)
        return self.adam(ph, m, s, t, g, self.cfg.lr_phi)

    # -- the upper level ----------------------------------------------------
    def noisy_input(self, v, objnoise):
        """x: v + σε (DSM), v + σ_b ε (MDSM), v (SSM)."""
        c = self.cfg
        if c.objective == "dsm":
            return v + c.sigma * objnoise
        if c.objective == "mdsm":
            return v + self.sigmas * objnoise
        return v

    def objective(self, x, energy_sum, objnoise):
        """Per-sample mean of DSM, MDSM or SSM on s = −∇ₓ energy_sum(x)."""
        c = self.cfg
        xr = x.detach().requires_grad_()
        gx = grad(energy_sum(xr), xr, create_graph=True)[0]
        s = -gx
        if c.objective == "dsm":
            r = s + objnoise / c.sigma
            return (0.5 * (r * r).sum(1)).mean()
        if c.objective == "mdsm":
            r = s * self.inv_sigmas + objnoise * self.inv_sigma0_sq
            return (0.5 * (r * r).sum(1)).mean()
        u = objnoise
        hu = grad((gx * u).sum(), xr, create_graph=True)[0]
        return (0.5 * (s * s).sum(1) - (u * hu).sum(1)).mean()

    def upper(self, th, ph, x, objnoise, pn):
        h = self.sample(x.detach(), ph, pn)
        return self.objective(x, lambda xr: self.neg_log_joint(xr, h, th, ph), objnoise)

    def j_bi(self, th, ph, m, s, t, x, objnoise, stages):
        ph = [p.detach().requires_grad_() for p in ph]  # φ⁰: a constant in θ
        for pn in stages[:-1]:
            ph, m, s, t = self.unrolled_phi_step(th, ph, m, s, t, x, pn)
        return self.upper(th, ph, x, objnoise, stages[-1])

    # -- VaGES ----------------------------------------------------------------
    def vages_gradient(self, th, ph, x, eps, particles):
        c, L = self.cfg, self.cfg.L
        per = len(particles) // len(c.particle_groups())

        def draw(noise):
            with torch.no_grad():
                if c.hard_particles():
                    p = torch.sigmoid(self.model.posterior(x, ph))
                    return [(noise[0][i] < p).to(x.dtype) for i in range(L)]
                return [self.sample(x, ph, [n[i] for n in noise]) for i in range(L)]
        groups = [draw(particles[k:k + per]) for k in range(0, len(particles), per)]
        h_score, h_derivative, h_cov = groups if len(groups) == 3 else groups * 3
        th0 = [p.detach() for p in th]

        def mean_score(hs):  # mean_i ∇ₓ log p̃(x, h_i)
            total = torch.zeros_like(x)
            for h in hs:
                xr = x.detach().requires_grad_()
                total = total - grad(self.model.energy(xr, h, th0).sum(), xr)[0]
            return total / L
        s_hat = mean_score(h_score)  # pass 1
        g_bar = mean_score(h_cov) if len(groups) == 3 else s_hat
        r = s_hat + eps / c.sigma
        j = (0.5 * (r * r).sum(1)).mean()
        w = r
        thr = [p.detach().requires_grad_() for p in th]
        grads = [torch.zeros_like(p) for p in th]

        def score_and_energy(h):
            xr = x.detach().requires_grad_()
            e = self.model.energy(xr, h, thr)
            return -grad(e.sum(), xr, create_graph=True)[0], e
        for hd, hc in zip(h_derivative, h_cov):  # pass 2: Σ_i ∇θ S_i
            g_d, _ = score_and_energy(hd)
            g_c, e_c = score_and_energy(hc)
            cov = (w * (g_c - g_bar)).sum(1).detach()
            surrogate = ((w * g_d).sum(1) / L + cov * (-e_c) / (L - 1)).mean()
            grads = [a + b for a, b in zip(grads, grad(surrogate, thr))]
        return j.detach(), grads

    # -- the public step ------------------------------------------------------
    def step_with_noise(self, state, v, noise):
        c = self.cfg
        nt, np_, K, N = self.nt, self.np, c.K, c.N
        if c.method == "marginal":
            return self.marginal_step(state, v, noise)
        th = list(state[:nt])
        ph = list(state[nt:nt + np_])
        m_th = list(state[nt + np_:2 * nt + np_])
        s_th = list(state[2 * nt + np_:3 * nt + np_])
        m_ph = list(state[3 * nt + np_:3 * nt + 2 * np_])
        s_ph = list(state[3 * nt + 2 * np_:3 * nt + 3 * np_])
        t_th, t_ph = state[3 * nt + 3 * np_], state[3 * nt + 3 * np_ + 1]
        objnoise, post = noise[0], noise[1:]
        stage = lambda i: post[i * self.w:(i + 1) * self.w]
        x = self.noisy_input(v, objnoise)
        metric_stage = stage(K) if c.method == "vages" else stage(K + N)
        lower_before = self.lower_metric(th, ph, x, metric_stage)
        for k in range(K):
            ph, m_ph, s_ph, t_ph = self.plain_phi_step(th, ph, m_ph, s_ph, t_ph, x, stage(k))
        lower_after = self.lower_metric(th, ph, x, metric_stage)
        if c.method == "vages":
            j, g = self.vages_gradient(th, ph, x, objnoise, post[(K + 1) * self.w:])
        else:
            thr = [p.detach().requires_grad_() for p in th]
            j = self.j_bi(thr, ph, m_ph, s_ph, t_ph, x, objnoise,
                          [stage(K + n) for n in range(N + 1)])
            g = grad(j, thr)
            j = j.detach()
        with torch.no_grad():
            norm = torch.sqrt(sum((gi * gi).sum() for gi in g))
            th, m_th, s_th, t_th = self.adam(th, m_th, s_th, t_th, g, c.lr_theta)
        return (th + ph + m_th + s_th + m_ph + s_ph + [t_th, t_ph] +
                [j, lower_before, lower_after, norm])

    def marginal_step(self, state, v, noise):
        c, nt = self.cfg, self.nt
        th, m, s, t = (list(state[:nt]), list(state[nt:2 * nt]),
                       list(state[2 * nt:3 * nt]), state[3 * nt])
        x = self.noisy_input(v, noise[0])
        thr = [p.detach().requires_grad_() for p in th]
        j = self.objective(x, lambda xr: self.model.free_energy(xr, thr).sum(), noise[0])
        g = grad(j, thr)
        with torch.no_grad():
            norm = torch.sqrt(sum((gi * gi).sum() for gi in g))
            th, m, s, t = self.adam(th, m, s, t, g, c.lr_theta)
        return th + m + s + [t, j.detach(), norm]

    # -- own noise, for timing --------------------------------------------------
    def draw_noise(self, gen, dtype):
        out = []
        for _, shape, dist in self.cfg.noise_layout():
            if dist == "normal":
                out.append(torch.randn(shape, generator=gen, dtype=dtype))
            elif dist == "gumbel":
                out.append(-torch.empty(shape, dtype=dtype).exponential_(generator=gen).log())
            elif dist == "rademacher":
                out.append(torch.randint(0, 2, shape, generator=gen).to(dtype) * 2.0 - 1.0)
            else:
                out.append(torch.rand(shape, generator=gen, dtype=dtype))
        return out
