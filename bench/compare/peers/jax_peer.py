"""JAX peer of bism's training steps (jax.grad nested, jax.jit).

The same step as `@train_step_with_noise` (docs/training.md; see
torch_peer.py for the outline), written functionally: the N differentiable
φ steps are jax.grad inside the function that jax.grad differentiates in θ;
SSM's Hessian-vector product is jax.jvp over jax.grad (forward over
reverse, as bism's bism.hvp); the Fisher lower level's ∇_h is a jax.grad
in h inside the one in φ.
"""

import math

import jax
import jax.numpy as jnp

HALF_LOG_2PI = 0.91893853320467274178


class GRBM:
    @staticmethod
    def energy(v, h, th):
        W, b, c, logsigma = th
        quad = 0.5 * jnp.sum((v - b) ** 2 * jnp.exp(-2.0 * logsigma), 1)
        return quad - jnp.sum((v @ W + c) * h, 1)

    @staticmethod
    def free_energy(v, th):
        W, b, c, logsigma = th
        quad = 0.5 * jnp.sum((v - b) ** 2 * jnp.exp(-2.0 * logsigma), 1)
        return quad - jnp.sum(jax.nn.softplus(v @ W + c), 1)

    @staticmethod
    def posterior(v, ph):
        A, d = ph
        return v @ A + d


class MLP:
    @staticmethod
    def energy(v, h, th):
        W1, b1, W2, b2, C1, c1, D1, d1, C2, c2, D2, d2, W3, b3 = th
        f = jax.nn.elu(v @ W1 + b1) @ W2 + b2
        hc = h + (jax.nn.elu(f @ C1 + c1) @ D1 + d1)
        fc = f + (jax.nn.elu(hc @ C2 + c2) @ D2 + d2)
        z = jnp.concatenate([fc, hc], 1)
        return jnp.sum(jax.nn.elu(z @ W3 + b3) ** 2, 1)

    @staticmethod
    def posterior(v, ph):
        A1, a1, Am, am, As, as_ = ph
        e = jax.nn.elu(v @ A1 + a1)
        return e @ Am + am, e @ As + as_


def conv2d(x, w, b, stride=1, padding=0):
    """PyTorch's F.conv2d (NCHW, OIHW, cross-correlation)."""
    y = jax.lax.conv_general_dilated(x, w, (stride, stride), [(padding, padding)] * 2,
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return y + b[None, :, None, None]


class Deep:
    """examples/deep's models (see torch_peer.Deep)."""

    @staticmethod
    def g1(v, th):
        side = math.isqrt(v.shape[1])
        x = jax.nn.elu(conv2d(v.reshape(v.shape[0], 1, side, side), th[0], th[1], padding=1))
        i = 2
        while th[i].ndim == 4:  # a block: conv1, conv2 [, shortcut]
            shortcut = th[i + 4].ndim == 4 and th[i + 4].shape[-1] == 1
            stride = 2 if shortcut else 1
            y = jax.nn.elu(conv2d(x, th[i], th[i + 1], stride, 1))
            y = conv2d(y, th[i + 2], th[i + 3], 1, 1)
            x = jax.nn.elu(y + (conv2d(x, th[i + 4], th[i + 5], stride) if shortcut else x))
            i += 6 if shortcut else 4
        return jnp.mean(x, (2, 3)) @ th[i] + th[i + 1], th[i + 2:]

    @staticmethod
    def energy(v, h, th):
        f, (m1, b1, m2, b2, g3, b3) = Deep.g1(v, th)
        z = jnp.concatenate([f + (jax.nn.elu(h @ m1 + b1) @ m2 + b2), h], 1) @ g3 + b3
        return jnp.sum(z * z, 1)

    @staticmethod
    def free_energy(v, th):
        f, (g3, b3) = Deep.g1(v, th)
        z = f @ g3 + b3
        return jnp.sum(z * z, 1)

    @staticmethod
    def posterior(v, ph):
        side = math.isqrt(v.shape[1])
        x = v.reshape(v.shape[0], 1, side, side)
        for w, b in zip(ph[:-4:2], ph[1:-4:2]):
            x = jax.nn.elu(conv2d(x, w, b, 2, 1))
        x = x.reshape(x.shape[0], -1)
        Am, am, As, as_ = ph[-4:]
        return x @ Am + am, x @ As + as_


FAMILIES = {"grbm": GRBM, "mlp": MLP, "deep": Deep}


class Step:
    def __init__(self, cfg):
        self.cfg = cfg
        self.model = FAMILIES[cfg.family]
        self.nt, self.np = len(cfg.theta), len(cfg.phi)
        self.w = cfg.stage_width()
        if cfg.objective == "mdsm":  # [B, 1] σ_b and 1/σ_b (the latter in f64, as bism)
            sig = cfg.mdsm_sigmas()
            self.sigmas = sig.astype(cfg.dtype).reshape(-1, 1)
            self.inv_sigmas = (1.0 / sig).astype(cfg.dtype).reshape(-1, 1)
            self.inv_sigma0_sq = 1.0 / (cfg.sigma0 * cfg.sigma0)

    def sample(self, x, ph, pn):
        if self.cfg.posterior == "bernoulli":
            logits = self.model.posterior(x, ph)
            return jax.nn.sigmoid((logits + (pn[0] - pn[1])) / self.cfg.temperature)
        mu, logstd = self.model.posterior(x, ph)
        return mu + jnp.exp(logstd) * pn[0]

    def log_q(self, x, h, ph):
        if self.cfg.posterior == "bernoulli":
            logits = self.model.posterior(x, ph)
            return jnp.sum(h * logits - jax.nn.softplus(logits), 1)
        mu, logstd = self.model.posterior(x, ph)
        z = (h - mu) * jnp.exp(-logstd)
        return jnp.sum(-0.5 * z * z - logstd - HALF_LOG_2PI, 1)

    def neg_log_joint(self, x, h, th, ph):
        return jnp.sum(self.model.energy(x, h, th)) + jnp.sum(self.log_q(x, h, ph))

    def lower(self, th, ph, x, pn):
        h = self.sample(x, ph, pn)
        if self.cfg.divergence == "kl":
            return jnp.mean(self.log_q(x, h, ph) + self.model.energy(x, h, th))
        gh = jax.grad(lambda hh: self.neg_log_joint(x, hh, th, ph))(h)
        return jnp.mean(0.5 * jnp.sum(gh * gh, 1))

    def adam(self, ps, ms, ss, t, gs, lr):
        c = self.cfg
        t = t + 1.0
        bc1 = 1.0 - jnp.power(jnp.asarray(c.beta1, t.dtype), t)
        bc2 = 1.0 - jnp.power(jnp.asarray(c.beta2, t.dtype), t)
        ms = [c.beta1 * m + (1.0 - c.beta1) * g for m, g in zip(ms, gs)]
        ss = [c.beta2 * s + (1.0 - c.beta2) * (g * g) for s, g in zip(ss, gs)]
        ps = [p - lr * ((m / bc1) / (jnp.sqrt(s / bc2) + c.eps_adam))
              for p, m, s in zip(ps, ms, ss)]
        return ps, ms, ss, t

    def phi_step(self, th, ph, m, s, t, x, pn):
        g = jax.grad(self.lower, argnums=1)(th, ph, x, pn)
        return self.adam(ph, m, s, t, g, self.cfg.lr_phi)

    def noisy_input(self, v, objnoise):
        c = self.cfg
        if c.objective == "dsm":
            return v + c.sigma * objnoise
        if c.objective == "mdsm":
            return v + self.sigmas * objnoise
        return v

    def objective(self, x, energy_sum, objnoise):
        c = self.cfg
        gx_fn = jax.grad(energy_sum)
        gx = gx_fn(x)
        s = -gx
        if c.objective == "dsm":
            r = s + objnoise / c.sigma
            return jnp.mean(0.5 * jnp.sum(r * r, 1))
        if c.objective == "mdsm":
            r = s * self.inv_sigmas + objnoise * self.inv_sigma0_sq
            return jnp.mean(0.5 * jnp.sum(r * r, 1))
        u = objnoise
        hu = jax.jvp(gx_fn, (x,), (u,))[1]
        return jnp.mean(0.5 * jnp.sum(s * s, 1) - jnp.sum(u * hu, 1))

    def upper(self, th, ph, x, objnoise, pn):
        h = self.sample(jax.lax.stop_gradient(x), ph, pn)
        return self.objective(x, lambda xx: self.neg_log_joint(xx, h, th, ph), objnoise)

    def j_bi(self, th, ph, m, s, t, x, objnoise, stages):
        for pn in stages[:-1]:
            ph, m, s, t = self.phi_step(th, ph, m, s, t, x, pn)
        return self.upper(th, ph, x, objnoise, stages[-1])

    def vages_gradient(self, th, ph, x, eps, particles):
        c, L = self.cfg, self.cfg.L
        per = len(particles) // len(c.particle_groups())

        def draw(noise):
            if c.hard_particles():
                p = jax.nn.sigmoid(self.model.posterior(x, ph))
                hs = [(noise[0][i] < p).astype(x.dtype) for i in range(L)]
            else:
                hs = [self.sample(x, ph, [n[i] for n in noise]) for i in range(L)]
            return [jax.lax.stop_gradient(h) for h in hs]
        groups = [draw(particles[k:k + per]) for k in range(0, len(particles), per)]
        h_score, h_derivative, h_cov = groups if len(groups) == 3 else groups * 3
        score = lambda th_, h: -jax.grad(
            lambda xx: jnp.sum(self.model.energy(xx, h, th_)))(x)
        s_hat = sum(score(th, h) for h in h_score) / L
        g_bar = sum(score(th, h) for h in h_cov) / L if len(groups) == 3 else s_hat
        r = s_hat + eps / c.sigma
        j = jnp.mean(0.5 * jnp.sum(r * r, 1))
        w = r

        def surrogate(th_, hd, hc):
            cov = jax.lax.stop_gradient(jnp.sum(w * (score(th_, hc) - g_bar), 1))
            log_p = -self.model.energy(x, hc, th_)
            return jnp.mean(jnp.sum(w * score(th_, hd), 1) / L + cov * log_p / (L - 1))

        grads = [jnp.zeros_like(p) for p in th]
        for hd, hc in zip(h_derivative, h_cov):
            grads = [a + b for a, b in zip(grads, jax.grad(surrogate)(th, hd, hc))]
        return j, grads

    def step_with_noise(self, state, v, noise):
        c = self.cfg
        nt, np_, K, N = self.nt, self.np, c.K, c.N
        if c.method == "marginal":
            return self.marginal_step(state, v, noise)
        state = list(state)
        th = state[:nt]
        ph = state[nt:nt + np_]
        m_th = state[nt + np_:2 * nt + np_]
        s_th = state[2 * nt + np_:3 * nt + np_]
        m_ph = state[3 * nt + np_:3 * nt + 2 * np_]
        s_ph = state[3 * nt + 2 * np_:3 * nt + 3 * np_]
        t_th, t_ph = state[3 * nt + 3 * np_], state[3 * nt + 3 * np_ + 1]
        objnoise, post = noise[0], list(noise[1:])
        stage = lambda i: post[i * self.w:(i + 1) * self.w]
        x = self.noisy_input(v, objnoise)
        metric_stage = stage(K) if c.method == "vages" else stage(K + N)
        lower_before = self.lower(th, ph, x, metric_stage)
        for k in range(K):
            ph, m_ph, s_ph, t_ph = self.phi_step(th, ph, m_ph, s_ph, t_ph, x, stage(k))
        lower_after = self.lower(th, ph, x, metric_stage)
        if c.method == "vages":
            j, g = self.vages_gradient(th, ph, x, objnoise, post[(K + 1) * self.w:])
        else:
            stages = [stage(K + n) for n in range(N + 1)]
            j, g = jax.value_and_grad(self.j_bi)(th, ph, m_ph, s_ph, t_ph, x, objnoise, stages)
        norm = jnp.sqrt(sum(jnp.sum(gi * gi) for gi in g))
        th, m_th, s_th, t_th = self.adam(th, m_th, s_th, t_th, g, c.lr_theta)
        return (th + ph + m_th + s_th + m_ph + s_ph + [t_th, t_ph] +
                [j, lower_before, lower_after, norm])

    def marginal_step(self, state, v, noise):
        c, nt = self.cfg, self.nt
        state = list(state)
        th, m, s, t = state[:nt], state[nt:2 * nt], state[2 * nt:3 * nt], state[3 * nt]
        x = self.noisy_input(v, noise[0])
        j_fn = lambda th_: self.objective(
            x, lambda xx: jnp.sum(self.model.free_energy(xx, th_)), noise[0])
        j, g = jax.value_and_grad(j_fn)(th)
        norm = jnp.sqrt(sum(jnp.sum(gi * gi) for gi in g))
        th, m, s, t = self.adam(th, m, s, t, g, c.lr_theta)
        return th + m + s + [t, j, norm]

    def draw_noise(self, key, dtype):
        layout = self.cfg.noise_layout()
        keys = jax.random.split(key, len(layout))
        out = []
        for k, (_, shape, dist) in zip(keys, layout):
            if dist == "normal":
                out.append(jax.random.normal(k, shape, dtype))
            elif dist == "gumbel":
                out.append(jax.random.gumbel(k, shape, dtype))
            elif dist == "rademacher":
                out.append(jax.random.rademacher(k, shape, dtype))
            else:
                out.append(jax.random.uniform(k, shape, dtype))
        return out
