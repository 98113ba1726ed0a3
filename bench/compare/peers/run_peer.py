"""Runs one peer (torch eager, torch.compile or jax.jit) on one configuration:
first the check against bism's reference outputs on the shared inputs, then,
only if it agrees (or with --force), the timing of its full step (its own
noise draws included), with the peak RSS of the whole process and of the
timed steps. Prints one JSON object on the last line of stdout.

  python -m peers.run_peer --peer torch-eager --config frey-bidsm-K5N5 \
      --workdir W --warmup 3 --iters 20
"""

import argparse
import json
import os
import statistics
import sys
import time
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from peers import config as cfgmod  # noqa: E402

TOLERANCE = 1e-4


def first_line(e):
    lines = [l.strip() for l in str(e).splitlines() if l.strip()]
    return "%s: %s" % (type(e).__name__, lines[0][:300] if lines else "")


def peak_rss_mib(pid="self"):
    """A process's resident high-water mark (VmHWM), MiB."""
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return None


def reset_peak_rss(pid="self"):
    """Restarts VmHWM (and ru_maxrss) at the current RSS: clear_refs 5,
    Linux 4.0 on. False where refused."""
    try:
        with open("/proc/%s/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def load_inputs(workdir, cfg):
    d = os.path.join(workdir, "inputs")
    n_state = len(cfg.state_names())
    state = [np.load(os.path.join(d, "state%02d.npy" % i)) for i in range(n_state)]
    v = np.load(os.path.join(d, "v.npy"))
    noise = [np.load(os.path.join(d, "noise%02d.npy" % i))
             for i in range(len(cfg.noise_layout()))]
    return state, v, noise


def load_reference(workdir, cfg):
    d = os.path.join(workdir, "bism")
    n = len(cfg.state_names()) + len(cfg.metric_names())
    return [np.load(os.path.join(d, "result%d.npy" % i)) for i in range(n)]


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = np.max(np.abs(b)) if b.size else 0.0
    err = np.max(np.abs(a - b)) if b.size else 0.0
    return float(err / scale) if scale > 0 else float(err)


def compare(cfg, inputs_state, outputs, reference):
    """Relative errors: J and each metric; the θ update θ' − θ (all θ
    tensors together, max-abs error over max-abs value); the new φ."""
    names = cfg.state_names() + cfg.metric_names()
    out = {}
    for name in cfg.metric_names():
        i = names.index(name)
        out[name] = rel(outputs[i], reference[i])
    nt = len(cfg.theta)
    d_peer = np.concatenate([(outputs[i] - inputs_state[i]).ravel() for i in range(nt)])
    d_ref = np.concatenate([(reference[i] - inputs_state[i]).ravel() for i in range(nt)])
    out["theta_update"] = rel(d_peer, d_ref)
    if cfg.phi:
        np_ = len(cfg.phi)
        out["phi"] = max(rel(outputs[nt + i], reference[nt + i]) for i in range(np_))
    out["J_peer"] = float(outputs[names.index("J")])
    out["J_bism"] = float(reference[names.index("J")])
    out["ok"] = bool(out["J"] <= TOLERANCE)
    return out


# -- the frameworks -----------------------------------------------------------

class TorchPeer:
    def __init__(self, cfg, compiled):
        import torch
        from peers import torch_peer
        self.torch = torch
        self.step = torch_peer.Step(cfg)
        self.dtype = torch.float32 if cfg.dtype == np.float32 else torch.float64
        self.compiled = compiled
        self.notes = []
        fn = self.step.step_with_noise
        if compiled:
            import torch._dynamo
            self.fn = None
        else:
            self.fn = fn
        self.raw = fn
        self.gen = torch.Generator().manual_seed(1234)

    def _call(self, state, v, noise):
        if self.fn is not None:
            return self.fn(state, v, noise)
        # torch.compile as it comes (fullgraph=True, so that a graph break is
        # an error and not a silent fallback to eager for the double
        # backward) fails on torch.autograd.grad; say why, then compile with
        # Dynamo tracing the autograd.grad calls into the graph. (Without
        # fullgraph, the graph breaks at each autograd.grad and AOTAutograd's
        # compiled pieces refuse the double backward: "torch.compile with
        # aot_autograd does not currently support double backward", after
        # minutes of compiling; not tried here.)
        torch = self.torch
        try:
            compiled = torch.compile(self.raw, fullgraph=True)
            out = compiled(state, v, noise)
            self.notes.append("torch.compile(fullgraph=True) compiles as is")
            self.fn = compiled
            return out
        except Exception as e:  # noqa: BLE001
            self.notes.append("torch.compile(fullgraph=True) as is fails: %s" % first_line(e))
        torch._dynamo.reset()
        torch._dynamo.config.trace_autograd_ops = True
        self.fn = torch.compile(self.raw, fullgraph=True)
        out = self.fn(state, v, noise)
        self.notes.append("compiled with torch._dynamo.config.trace_autograd_ops=True, "
                          "fullgraph=True")
        return out

    def tensors(self, arrays):
        return [self.torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]

    def run_with_noise(self, state, v, noise):
        out = self._call(self.tensors(state), self.tensors([v])[0], self.tensors(noise))
        return [o.detach().numpy() for o in out]

    def timed_setup(self, state, v):
        self.state = self.tensors(state)
        self.v = self.tensors([v])[0]
        self.n_state = len(state)

    def timed_step(self):
        noise = self.step.draw_noise(self.gen, self.dtype)
        out = self._call(self.state, self.v, noise)
        self.state = [o.detach() for o in out[:self.n_state]]
        return out[self.n_state:]

    def info(self):
        return {"torch": self.torch.__version__, "threads": self.torch.get_num_threads()}


class JaxPeer:
    def __init__(self, cfg):
        import jax
        from peers import jax_peer
        self.jax = jax
        self.step = jax_peer.Step(cfg)
        self.dtype = np.float32 if cfg.dtype == np.float32 else np.float64
        if self.dtype == np.float64:
            jax.config.update("jax_enable_x64", True)
        self.with_noise = jax.jit(self.step.step_with_noise)
        n_state = len(cfg.state_names())

        def full(state, v, key):
            key, sub = jax.random.split(key)
            out = self.step.step_with_noise(state, v, self.step.draw_noise(sub, self.dtype))
            return out[:n_state], out[n_state:], key
        self.full = jax.jit(full)
        self.notes = []

    def run_with_noise(self, state, v, noise):
        out = self.with_noise(state, v, noise)
        return [np.asarray(o) for o in self.jax.block_until_ready(out)]

    def timed_setup(self, state, v):
        self.state = [self.jax.numpy.asarray(a) for a in state]
        self.v = self.jax.numpy.asarray(v)
        self.key = self.jax.random.PRNGKey(1234)

    def timed_step(self):
        self.state, metrics, self.key = self.full(self.state, self.v, self.key)
        self.jax.block_until_ready(metrics)
        return metrics

    def info(self):
        import jaxlib
        return {"jax": self.jax.__version__, "jaxlib": jaxlib.__version__,
                "devices": str(self.jax.devices())}


def make_peer(name, cfg):
    if name == "torch-eager":
        return TorchPeer(cfg, compiled=False)
    if name == "torch-compile":
        return TorchPeer(cfg, compiled=True)
    if name == "jax-jit":
        return JaxPeer(cfg)
    raise ValueError(name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--max-seconds", type=float, default=60.0,
                    help="stop timing after this long (at least 3 iterations)")
    ap.add_argument("--no-time", action="store_true")
    ap.add_argument("--force", action="store_true",
                    help="time the peer even if its check fails")
    args = ap.parse_args()
    cfg = cfgmod.load(args.config)
    result = {"peer": args.peer, "config": args.config}
    peak = 0
    try:
        t0 = time.perf_counter()
        peer = make_peer(args.peer, cfg)
        state, v, noise = load_inputs(args.workdir, cfg)
        outputs = peer.run_with_noise(state, v, noise)
        result["first_call_s"] = time.perf_counter() - t0
        result["check"] = compare(cfg, state, outputs, load_reference(args.workdir, cfg))
        result["info"] = peer.info()
        if not args.no_time and (result["check"]["ok"] or args.force):
            peer.timed_setup(state, v)
            t0 = time.perf_counter()
            peer.timed_step()  # compiles the full step (own noise) where needed
            result["compile_s"] = time.perf_counter() - t0
            for _ in range(max(0, args.warmup - 1)):
                peer.timed_step()
            # The timed steps' own peak RSS: the check's and the compiler's
            # are behind us (their peak stays in peak_rss_mib).
            peak = peak_rss_mib()
            reset = reset_peak_rss()
            times = []
            start = time.perf_counter()
            while len(times) < args.iters:
                t0 = time.perf_counter()
                metrics = peer.timed_step()
                times.append(time.perf_counter() - t0)
                if len(times) >= 3 and time.perf_counter() - start > args.max_seconds:
                    break
            if reset:
                result["steps_rss_mib"] = peak_rss_mib()
            result["times_ms"] = [t * 1e3 for t in times]
            result["median_ms"] = statistics.median(times) * 1e3
            result["last_J"] = float(np.asarray(metrics[0]))
        result["notes"] = peer.notes
    except Exception as e:  # noqa: BLE001
        result["error"] = "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0][:400]
                                      if str(e).strip() else "")
        result["traceback"] = traceback.format_exc()[-3000:]
    result["peak_rss_mib"] = max(peak, peak_rss_mib())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
