"""bism against PyTorch (eager, torch.compile) and JAX (jax.jit) on the same
training steps: correctness on shared inputs, then timing, then a table with
the GEMM floor of each bism step. Run through bench/compare/run.sh (which
makes the virtual environment); see there for the options.

Phases, all in one run:
 1. reference: per configuration, the model file with the spec overrides
    (a rewritten copy, bism-opt has no --set), the step module
    (bism-opt --bism-build-train-step), shared inputs (state from the
    model's initialisers with random Adam moments, a uniform batch v, the
    noise from bism's own @draw_noise) and bism's outputs of
    @train_step_with_noise on them (bism-run --entry ... --output-npy);
 2. per configuration: bism's training speed (bism-run MODEL --iters N:
    the whole host loop), then each peer in its own process: its step on
    the shared inputs compared with bism's (J to relative 1e-4; a peer that
    disagrees is reported and not timed), then its full step with its own
    noise draws, median over iterations after warm-up;
 3. the GEMM floor: the matmuls of each compiled step (step_matmuls), the
    sgemm rate on each distinct shape (sgemm_rate, the OpenBLAS bism links),
    their ratio summed, and bism's time as a multiple of it.
"""

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from peers import config as cfgmod  # noqa: E402
from peers.run_peer import peak_rss_mib, reset_peak_rss  # noqa: E402

PEERS = ["torch-eager", "torch-compile", "jax-jit"]
PINNED = []  # taskset prefix of the timed processes (--threads)

# bism-run training iterations per configuration (full, --quick): each run
# should take some seconds of steps after its compilation.
BISM_ITERS = {
    "ck-bidsm-K5N5": (60000, 1000),
    "frey-bidsm-K5N5": (300, 5),
    "frey-bidsm-K5N10": (200, 4),
    "frey-bissm-K5N5": (250, 4),
    "frey-vages-dsm-L2": (600, 10),
    "frey-marginal-dsm": (3000, 100),
    "mlp-bidsm-K5N2": (400, 6),
    "deep-bimdsm-K5N0": (12, 4),
    "deep-ebm-mdsm": (20, 4),
}
# Steps of seconds, where bism-run's it/s (printed to 0.1) is too coarse:
# bism's ms is the median interval between the per-step lines of its
# metrics.jsonl (--log-every 1) as they appear, and the peak RSS of those
# steps is read from /proc as the peers read theirs.
PER_STEP = {"deep-bimdsm-K5N0", "deep-ebm-mdsm"}


def log(*args):
    print(*args, flush=True)


def machine_load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


# -- module text ------------------------------------------------------------------

FUNC = re.compile(r"^\s*func\.func\s+(?:private\s+)?@([\w.$]+)\(")
SYMBOL = re.compile(r"@([\w.$]+)")


def split_functions(text):
    """[(name, lines)] of the module's functions in order, and [(None, lines)]
    for what lies between (the module's own lines)."""
    parts, current, depth = [], None, 0
    for line in text.splitlines():
        m = FUNC.match(line)
        if m and current is None:
            current, depth = m.group(1), 0
            parts.append((current, []))
        elif current is None:
            if not parts or parts[-1][0] is not None:
                parts.append((None, []))
        parts[-1][1].append(line)
        if current is not None:
            depth += line.count("{") - line.count("}")
            if depth == 0 and line.strip() == "}":
                current = None
    return parts


def prune_module(text, entry):
    """The module with only `entry` and the functions it reaches (calls,
    AD ops' callees): bism-run --entry compiles every function of a module."""
    parts = split_functions(text)
    funcs = {name: lines for name, lines in parts if name}
    keep, pending = set(), [entry]
    while pending:
        name = pending.pop()
        if name in keep or name not in funcs:
            continue
        keep.add(name)
        for line in funcs[name]:
            pending.extend(SYMBOL.findall(line))
    out = []
    for name, lines in parts:
        if name is None or name in keep:
            out.extend(lines)
    return "\n".join(out) + "\n"


# -- phase 1: bism's reference outputs -----------------------------------------

class Work:
    def __init__(self, root, cfg, build):
        self.cfg, self.build = cfg, build
        self.dir = os.path.join(root, cfg.name)
        os.makedirs(os.path.join(self.dir, "inputs"), exist_ok=True)
        self.model = os.path.join(self.dir, "model.mlir")
        self.step = os.path.join(self.dir, "step.mlir")

    def tool(self, name):
        return os.path.join(self.build, "bin", name)

    def prepare(self):
        cfg = self.cfg
        with open(self.model, "w") as f:
            f.write(cfgmod.rewrite_spec(cfg.text, cfg.overrides))
        step = run([self.tool("bism-opt"), self.model, "--bism-build-train-step"],
                   stdout=subprocess.PIPE).stdout
        with open(self.step, "w") as f:
            f.write(step)
        for entry in ("draw_noise", "train_step_with_noise"):
            with open(os.path.join(self.dir, entry + ".mlir"), "w") as f:
                f.write(prune_module(step, entry))
        inputs = os.path.join(self.dir, "inputs")
        for i, a in enumerate(cfg.initial_state()):
            np.save(os.path.join(inputs, "state%02d.npy" % i), a)
        np.save(os.path.join(inputs, "v.npy"), cfg.batch())
        noise_dir = os.path.join(self.dir, "noise")
        t0 = time.perf_counter()
        run([self.tool("bism-run"), os.path.join(self.dir, "draw_noise.mlir"), "--entry", "draw_noise",
             "--input", "2xi32=1 2", "--output-npy", noise_dir], stdout=subprocess.DEVNULL)
        layout = cfg.noise_layout()
        for i, (name, shape, _) in enumerate(layout):
            a = np.load(os.path.join(noise_dir, "result%d.npy" % i))
            if a.shape != tuple(shape):
                raise RuntimeError("%s: noise %d (%s) has shape %s, expected %s" %
                                   (cfg.name, i, name, a.shape, shape))
            np.save(os.path.join(inputs, "noise%02d.npy" % i), a)
        args = [self.tool("bism-run"), os.path.join(self.dir, "train_step_with_noise.mlir"),
                "--entry", "train_step_with_noise"]
        for i in range(len(cfg.state_names())):
            args += ["--input", "@" + os.path.join(inputs, "state%02d.npy" % i)]
        args += ["--input", "@" + os.path.join(inputs, "v.npy")]
        for i in range(len(layout)):
            args += ["--input", "@" + os.path.join(inputs, "noise%02d.npy" % i)]
        args += ["--output-npy", os.path.join(self.dir, "bism")]
        run(args, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0

    def bism_timing(self, iters, build, extra_args):
        """ms/step from bism-run's it/s (the whole host loop: batch gathering,
        the compiled step with its noise draws, metrics), after compilation;
        the final evaluation is excluded (and AIS skipped). PER_STEP
        configurations: the median of the per-step intervals instead."""
        out = os.path.join(self.dir, "run")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        per_step = self.cfg.name in PER_STEP
        cmd = PINNED + [os.path.join(build, "bin", "bism-run"), self.cfg.model_path, "--iters", str(iters),
               "--out", out, "--no-png", "--no-progress", "--eval-every", "0",
               "--ais-steps", "0", "--checkpoint-every", str(10 ** 9)] + extra_args
        cmd += (["--log-every", "1"] if per_step else []) + self.cfg.bism_set_args()
        log_path = os.path.join(self.dir, "bism-run.log")
        with open(log_path, "w") as f:  # a file, not a pipe: nobody reads it while we watch
            p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, text=True)
            watched = watch_steps(p, os.path.join(out, "metrics.jsonl"), iters) if per_step else None
            p.wait()
        with open(log_path) as f:
            text = f.read()
        if p.returncode != 0:
            return {"error": "bism-run exit %d: %s" % (p.returncode, text.strip()[-400:])}
        compile_s = re.search(r"^compiled in ([0-9.]+) s(?: \(cache (\w+)\))?", text, re.M)
        rate = re.search(r"^done: (\d+) steps, ([0-9.]+) it/s", text, re.M)
        rss = re.search(r"peak RSS (\d+) MiB", text)
        if not rate:
            return {"error": "no 'done:' line in bism-run output: " + text[-400:]}
        its = float(rate.group(2))
        if its <= 0:
            return {"error": "bism-run reports %s it/s" % rate.group(2)}
        # bism-run prints it/s to 0.1: the relative rounding bound of ms.
        r = {"ms": 1e3 / its, "iters": int(rate.group(1)), "it_per_s": its,
             "rounding": 0.05 / its,
             "compile_s": float(compile_s.group(1)) if compile_s else None,
             "cache": compile_s.group(2) if compile_s else None,
             "rss_mib": int(rss.group(1)) if rss else None}
        if per_step:
            arrivals, before_rss, steps_rss = watched
            # Steps 2..iters-1: the last line waits for the final evaluation.
            intervals = [b - a for a, b in zip(arrivals[:iters - 2], arrivals[1:iters - 1])]
            if not intervals:
                return {"error": "%d metrics lines of %d steps: no interval to time" %
                               (len(arrivals), iters)}
            r.update(ms=statistics.median(intervals) * 1e3,
                     times_ms=[t * 1e3 for t in intervals], steps_rss_mib=steps_rss)
            # bism-run's ru_maxrss restarted with the reset: the whole run's
            # peak is the larger of the two.
            if r["rss_mib"] is not None and before_rss is not None:
                r["rss_mib"] = max(r["rss_mib"], before_rss)
        return r


def watch_steps(proc, metrics, iters):
    """While bism-run `proc` trains with --log-every 1: the arrival times of
    the lines of `metrics` (polled every 5 ms), and its peak RSS before step
    2 and over steps 2..iters-1 (VmHWM, reset when line 1 appears and read
    when line iters-1 does)."""
    arrivals, before, steps = [], None, None
    while proc.poll() is None:
        try:
            with open(metrics) as f:
                n = f.read().count("\n")
        except OSError:
            n = 0
        now = time.perf_counter()
        while len(arrivals) < n:
            arrivals.append(now)
            try:
                if len(arrivals) == 1:
                    before = peak_rss_mib(proc.pid)
                    if not reset_peak_rss(proc.pid):
                        before = None
                if len(arrivals) == iters - 1 and before is not None:
                    steps = peak_rss_mib(proc.pid)
            except OSError:  # bism-run has just exited
                pass
        time.sleep(0.005)
    return arrivals, before, steps


# -- the GEMM floor ---------------------------------------------------------------

MATMUL = re.compile(r"linalg\.(batch_)?matmul(?:\s+indexing_maps = \[([^\]]*)\])?\s*(?:\{[^}]*\})?\s*"
                    r"ins\(%[\w#]+, %[\w#]+ : tensor<([0-9x]+)x\w+>, tensor<([0-9x]+)x\w+>\)\s*"
                    r"outs\(%[\w#]+ : tensor<([0-9x]+)x\w+>\)")
AFFINE_MAP = re.compile(r"^#(\w+) = affine_map<\(([^)]*)\) -> \(([^)]*)\)>", re.M)
CALL = re.compile(r"\bcall\s+@([\w.$]+)\(")
FOR = re.compile(r"scf\.for\s+%\w+\s*=\s*(%\w+)\s+to\s+(%\w+)\s+step\s+(%\w+)")
CONST = re.compile(r"(%\w+)\s*=\s*arith\.constant\s+(-?\d+)\s*:\s*index")


def step_matmul_ir(build, model):
    """The IR whose matmuls count as the compiled step's: the kernel stage
    (bism-opt --bism-to-kernels), after the matmul merges, as compiled."""
    return subprocess.run(
        [os.path.join(build, "bin", "bism-opt"), model, "--bism-build-train-step",
         "--bism-to-kernels"],
        check=True, text=True, capture_output=True).stdout


def matmul_transposes(maps, names, batched):
    """(transpose_lhs, transpose_rhs) of a linalg matmul from its indexing
    maps (#name list; none printed: the default, no transposes)."""
    if not names:
        return False, False
    lhs, rhs = (maps[n.strip().lstrip("#")] for n in names.split(",")[:2])
    if batched:
        return lhs == "d0, d3, d1", rhs == "d0, d2, d3"
    return lhs == "d2, d0", rhs == "d1, d2"


def step_matmuls(build, model, entry="train_step_with_noise"):
    """{(batch, M, N, K, transpose_lhs, transpose_rhs): count per step} of the
    matmuls `entry` executes: its own, those of the functions it calls (what
    --inline left as calls: the K plain φ steps, the metrics' lower level),
    and scf.for bodies times their constant trip counts (VaGES's particle
    loops)."""
    ir = step_matmul_ir(build, model)
    maps = {name: results for name, _, results in AFFINE_MAP.findall(ir)}
    funcs = {name: lines for name, lines in split_functions(ir) if name}
    memo = {}

    def count(name):
        if name in memo:
            return memo[name]
        memo[name] = {}
        total, consts, stack = {}, {}, [1]
        for line in funcs.get(name, []):
            c = CONST.search(line)
            if c:
                consts[c.group(1)] = int(c.group(2))
            mult = math.prod(stack)
            m = MATMUL.search(line)
            if m:
                lhs = [int(d) for d in m.group(3).split("x")]
                res = [int(d) for d in m.group(5).split("x")]
                ta, tb = matmul_transposes(maps, m.group(2), bool(m.group(1)))
                k = lhs[-2] if ta else lhs[-1]
                key = (math.prod(res[:-2]), res[-2], res[-1], k, ta, tb)
                total[key] = total.get(key, 0) + mult
            for callee in CALL.findall(line):
                for key, n in count(callee).items():
                    total[key] = total.get(key, 0) + n * mult
            f = FOR.search(line)
            stripped = line.strip()
            if stripped.endswith("{") and not FUNC.match(line):
                if f:
                    lo, hi, st = (consts.get(g) for g in f.groups())
                    if None in (lo, hi, st):
                        raise RuntimeError("@%s: scf.for with non-constant bounds" % name)
                    stack.append(max(0, -(-(hi - lo) // st)))
                else:
                    stack.append(1)
            elif stripped.startswith("}") and len(stack) > 1:
                stack.pop()
        memo[name] = total
        return total

    if entry not in funcs:
        raise RuntimeError("no @%s in the step IR" % entry)
    return count(entry)


def sgemm_rates(binary, shapes, seconds):
    """{shape: (best, median) GFLOP/s} from sgemm_rate (one process, all
    shapes); the floor takes the best repetition's rate."""
    args = PINNED + [binary, str(seconds)]
    for (batch, m, n, k, ta, tb) in shapes:
        args += [str(m), str(n), str(k), str(int(ta)), str(int(tb)), str(batch)]
    out = subprocess.run(args, check=True, text=True, capture_output=True).stdout
    rates = {}
    for line in out.splitlines():
        m, n, k, ta, tb, batch, best, median = line.split()
        rates[(int(batch), int(m), int(n), int(k), ta == "1", tb == "1")] = (
            float(best), float(median))
    return rates


# -- the table ----------------------------------------------------------------------

def fmt_ms(x):
    if x is None:
        return "-"
    return "%.3g" % x if x < 10 else "%.1f" % x


def cell(peer_result):
    if peer_result is None:
        return "-"
    if "error" in peer_result:
        return "error"
    if not peer_result.get("check", {}).get("ok"):
        return "MISMATCH"
    return fmt_ms(peer_result.get("median_ms"))


def rss_cell(r):
    if not r or "error" in r and "peak_rss_mib" not in r:
        return "-"
    whole = r.get("rss_mib", r.get("peak_rss_mib"))
    steps = r.get("steps_rss_mib")
    return "%s / %s" % (whole, steps) if steps else str(whole or "-")


def print_table(head, rows):
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    line = lambda cells: "| " + " | ".join(x.ljust(w) for x, w in zip(cells, widths)) + " |"
    log(line(head))
    log("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        log(line(row))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.environ.get("BISM_BUILD_DIR",
                                                      os.path.join(cfgmod.ROOT, "build")))
    ap.add_argument("--only", default="", help="comma-separated configurations "
                    "(substrings match): " + ", ".join(cfgmod.CONFIGS))
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--quick", action="store_true", help="few iterations")
    ap.add_argument("--workdir", default="")
    ap.add_argument("--sgemm-rate", default="", help="the compiled sgemm_rate")
    ap.add_argument("--force", action="store_true",
                    help="time peers whose check fails too")
    ap.add_argument("--json", default="", help="also write all results here")
    ap.add_argument("--threads", type=int, default=0,
                    help="N threads for everyone: OMP/OpenBLAS/MKL_NUM_THREADS=N and "
                         "the timed processes pinned to cores 0..N-1 (taskset); "
                         "0: each framework's default (all cores)")
    args = ap.parse_args()

    names = list(cfgmod.CONFIGS)
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        names = [n for n in names if any(w == n or w in n for w in wanted)]
        if not names:
            sys.exit("--only %s matches no configuration (%s)" %
                     (args.only, ", ".join(cfgmod.CONFIGS)))
    peers = [p for p in args.peers.split(",") if p]
    for p in peers:
        if p not in PEERS:
            sys.exit("unknown peer %s (%s)" % (p, ", ".join(PEERS)))
    build = os.path.abspath(args.build)
    for tool in ("bism-opt", "bism-run"):
        if not os.access(os.path.join(build, "bin", tool), os.X_OK):
            sys.exit("no %s in %s/bin: build bism first (scripts/build.sh)" % (tool, build))
    if args.threads:
        # OpenMP (bism's OpenBLAS, torch) reads the variables; XLA sizes its
        # pool from the CPUs it may run on: every timed process runs under
        # taskset on the first N cores.
        n = str(args.threads)
        os.environ.update(OMP_NUM_THREADS=n, OPENBLAS_NUM_THREADS=n, MKL_NUM_THREADS=n)
        PINNED[:] = ["taskset", "-c", "0-%d" % (args.threads - 1)]
    root = args.workdir or tempfile.mkdtemp(prefix="bism-compare-")
    os.makedirs(root, exist_ok=True)
    warmup, iters, max_s = (2, 5, 20.0) if args.quick else (3, 30, 60.0)
    cfgs = [cfgmod.load(n) for n in names]
    works = {c.name: Work(root, c, build) for c in cfgs}
    results = {c.name: {"peers": {}} for c in cfgs}
    log("bism build: %s; work directory: %s" % (build, root))
    log("threads: %s" % ("%d (OMP/OPENBLAS/MKL_NUM_THREADS, timed processes under %s)" %
                         (args.threads, " ".join(PINNED)) if args.threads
                         else "each framework's default"))
    log("configurations: %s; peers: %s; %s" % (", ".join(names), ", ".join(peers),
                                                 "quick" if args.quick else "full"))

    # 1. reference
    log("\n== 1. bism reference outputs of @train_step_with_noise on shared inputs")
    for c in cfgs:
        try:
            s = works[c.name].prepare()
            log("  %-20s ok (%.1f s: bism-opt, draw_noise, train_step_with_noise)" % (c.name, s))
        except Exception as e:  # noqa: BLE001
            results[c.name]["reference_error"] = str(e)
            log("  %-20s FAILED: %s" % (c.name, e))

    # 2. checks and timing
    log("\n== 2. checks (relative errors against bism; J must agree to %g) and timing"
        % 1e-4)
    log("   load before: %s" % machine_load())
    busy = float(machine_load().split()[0]) > 0.5
    if busy and not args.threads:
        log("   WARNING: the machine is busy (load above 0.5 on %d cores): OpenMP-threaded "
            "code (bism's OpenBLAS, torch) slows down by large factors when its spinning "
            "threads are descheduled; --threads 1 gives steadier figures" % os.cpu_count())
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # The final evaluation is not timed; the image models take minutes over
    # the whole test set.
    eval_rows = ["--eval-rows", "100"]
    for c in cfgs:
        r = results[c.name]
        if "reference_error" in r:
            continue
        full_iters, quick_iters = BISM_ITERS.get(c.name, (50, 10))
        r["bism"] = works[c.name].bism_timing(quick_iters if args.quick else full_iters, build,
                                              eval_rows)
        b = r["bism"]
        if "error" in b:
            line = b["error"]
        elif "times_ms" in b:
            line = ("%.3f ms/step (median of steps 2..%d from metrics.jsonl; bism-run: %.1f it/s "
                    "over all %d; compiled in %s s, cache %s)" % (
                        b["ms"], b["iters"] - 1, b["it_per_s"], b["iters"], b["compile_s"],
                        b["cache"]))
        else:
            line = ("%.3f ms/step (%.1f it/s, ±%.1f%% from its rounding; %d steps, compiled in "
                    "%s s, cache %s)" % (b["ms"], b["it_per_s"], 100 * b["rounding"], b["iters"],
                                         b["compile_s"], b["cache"]))
        if "error" not in b:
            line += "; peak RSS %s MiB%s" % (b["rss_mib"], ", timed steps %s MiB" %
                                             b["steps_rss_mib"] if b.get("steps_rss_mib") else "")
        log("  %-20s bism            %s" % (c.name, line))
        for p in peers:
            cmd = PINNED + [sys.executable, "-m", "peers.run_peer", "--peer", p, "--config", c.name,
                   "--workdir", works[c.name].dir, "--warmup", str(warmup),
                   "--iters", str(iters), "--max-seconds", str(max_s)]
            if args.force:
                cmd.append("--force")
            proc = subprocess.run(cmd, text=True, capture_output=True, cwd=HERE, env=env)
            try:
                pr = json.loads(proc.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                pr = {"error": "peer process exit %d: %s" % (proc.returncode,
                                                             (proc.stderr or "")[-600:])}
            r["peers"][p] = pr
            if "check" in pr:
                ch = pr["check"]
                errs = ", ".join("%s %.1e" % (k, ch[k]) for k in
                                 c.metric_names() + ["theta_update", "phi"] if k in ch)
                line = "%s  %s" % ("ok      " if ch["ok"] else "MISMATCH", errs)
                if "median_ms" in pr:
                    line += "; %.3f ms/step (median of %d; first call %.1f s, first own-noise step %.1f s)" % (
                        pr["median_ms"], len(pr["times_ms"]), pr.get("first_call_s", 0),
                        pr.get("compile_s", 0))
                    line += "; peak RSS %s MiB, timed steps %s MiB" % (
                        pr.get("peak_rss_mib"), pr.get("steps_rss_mib", "?"))
                elif not ch["ok"]:
                    line += "; not timed (J: peer %.7g, bism %.7g)" % (ch["J_peer"], ch["J_bism"])
            else:
                line = "ERROR  %s" % pr.get("error", "?")
            if "error" in pr and "check" in pr:
                line += "; then ERROR %s" % pr["error"]
            for note in pr.get("notes", []):
                line += "\n%-38s note: %s" % ("", note)
            log("  %-20s %-15s %s" % (c.name, p, line))
    log("   load after:  %s" % machine_load())

    # 3. GEMM floor
    log("\n== 3. GEMM floor: the matmuls of each step (bism-opt --bism-build-train-step"
        " --bism-to-kernels, @train_step_with_noise and"
        " its callees), at the sgemm rate measured on each shape (OpenBLAS cblas_sgemm, best of its repetitions)")
    all_shapes = set()
    for c in cfgs:
        if "reference_error" in results[c.name]:
            continue
        try:
            mm = step_matmuls(build, works[c.name].model)
            results[c.name]["matmuls"] = mm
            all_shapes.update(mm)
        except Exception as e:  # noqa: BLE001
            results[c.name]["matmul_error"] = str(e)
            log("  %-20s matmul census failed: %s" % (c.name, e))
    rates = {}
    if all_shapes and args.sgemm_rate:
        rates = sgemm_rates(args.sgemm_rate, sorted(all_shapes), 0.05 if args.quick else 0.3)
    elif all_shapes:
        log("  (no --sgemm-rate binary: no floor)")
    for c in cfgs:
        r = results[c.name]
        mm = r.get("matmuls")
        if not mm:
            continue
        flops = sum(2.0 * b * m * n * k * cnt for (b, m, n, k, _, _), cnt in mm.items())
        r["matmul_count"] = sum(mm.values())
        r["gflop"] = flops * 1e-9
        if rates:
            r["floor_ms"] = sum(2.0 * key[0] * key[1] * key[2] * key[3] * cnt / (rates[key][0] * 1e9)
                                for key, cnt in mm.items()) * 1e3
        log("  %-20s %4d matmuls, %.4g GFLOP/step%s" % (
            c.name, r["matmul_count"], r["gflop"],
            ", floor %.3f ms" % r["floor_ms"] if "floor_ms" in r else ""))
        for key, cnt in sorted(mm.items(), key=lambda kv: -kv[1] * math.prod(kv[0][:4])):
            b, m, n, k, ta, tb = key
            log("      %3d x  %s%dx%dx%d%s%s  %s" % (
                cnt, "%dx " % b if b > 1 else "", m, n, k, " Aᵀ" if ta else "",
                " Bᵀ" if tb else "",
                "%.1f GFLOP/s (median %.1f)" % rates[key] if key in rates else ""))

    # 4. table
    log("\n== results (%s; %s; load %s; ms per training step; peers: median after "
        "warm-up, their own noise draws included; bism: bism-run's mean over the run's "
        "steps of the host loop, PER_STEP configurations the median of its steps)" % ("quick" if args.quick else "full",
                                     "%d thread(s)" % args.threads if args.threads
                                     else "default threads", machine_load()))
    head = ["configuration", "bism ms", "torch eager", "torch.compile", "jax.jit",
            "eager/bism", "compile/bism", "jit/bism", "matmuls", "floor ms", "bism/floor"]
    rows = []
    for c in cfgs:
        r = results[c.name]
        b = r.get("bism", {})
        bms = b.get("ms")
        row = [c.name, fmt_ms(bms) if bms else ("error" if b else "-")]
        ratios = []
        for p in PEERS:
            pr = r["peers"].get(p)
            row.append(cell(pr))
            ok = pr and pr.get("check", {}).get("ok") and "median_ms" in pr
            ratios.append("%.2f" % (pr["median_ms"] / bms) if ok and bms else "-")
        row += ratios
        row.append(str(r.get("matmul_count", "-")))
        row.append(fmt_ms(r.get("floor_ms")))
        row.append("%.1f" % (bms / r["floor_ms"]) if bms and r.get("floor_ms") else "-")
        rows.append(row)
    print_table(head, rows)
    log("ratios: peer ms / bism ms (above 1: bism is faster); floor: Σ matmul FLOPs / "
        "sgemm rate on that shape; MISMATCH: the peer's J differs from bism's by more "
        "than 1e-4 relative (not timed)")
    log("\npeak RSS, MiB: the whole process / its timed steps alone")
    rows = []
    for c in cfgs:
        r = results[c.name]
        rows.append([c.name, rss_cell(r.get("bism"))] +
                    [rss_cell(r["peers"].get(p)) for p in PEERS])
    print_table(["configuration", "bism", "torch eager", "torch.compile", "jax.jit"], rows)
    log("whole process: ru_maxrss (bism-run's 'done:' line: the data set loaded, compiling "
        "only where its log line says cache miss; a peer: imports, the check, compiling, timing); timed steps: "
        "VmHWM restarted after the warm-up (/proc/PID/clear_refs; bism: after step 1, "
        "PER_STEP configurations only) and read after the timed steps")
    problems = []
    for c in cfgs:
        r = results[c.name]
        for p, pr in r["peers"].items():
            if "error" in pr:
                problems.append("%s %s: %s" % (c.name, p, pr["error"]))
            elif not pr.get("check", {}).get("ok"):
                problems.append("%s %s: J mismatch (relative %.2e)" % (c.name, p, pr["check"]["J"]))
        for key in ("reference_error", "matmul_error"):
            if key in r:
                problems.append("%s: %s" % (c.name, r[key]))
        if "error" in r.get("bism", {}):
            problems.append("%s bism timing: %s" % (c.name, r["bism"]["error"]))
    if problems:
        log("\nproblems:")
        for p in problems:
            log("  " + p)
    if args.json:
        def clean(o):
            if isinstance(o, dict):
                return {(str(k) if not isinstance(k, str) else k): clean(v) for k, v in o.items()}
            if isinstance(o, list):
                return [clean(v) for v in o]
            return o
        with open(args.json, "w") as f:
            json.dump(clean(results), f, indent=1)
    if not args.workdir:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
