#!/usr/bin/env python3
"""Crash-safety checks of `bism-run train` (issue 16), run by lit.

  crash_safety.py kill-loop BISM_RUN MODEL WORKDIR [--kills N] [--seed S]
      Trains MODEL uninterrupted into WORKDIR/reference, then again into
      WORKDIR/killed while killing the process with SIGKILL at random moments
      (and at the moments the final checkpoints appear) at least N times,
      resuming after each kill; then the two folders must be byte-identical
      (every checkpoint, metrics.jsonl, config.json, the PNGs).
  crash_safety.py two-writers BISM_RUN MODEL WORKDIR
      A second `train` on a folder another one is writing to is refused and
      leaves the first run's files as an uninterrupted run writes them.
  crash_safety.py full-disk BISM_RUN MODEL WORKDIR
      Trains on a 64 KiB tmpfs (in a user and mount namespace): the run fails
      with a clear error, and the last good checkpoint stays readable.
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import time

TRAIN = ["--iters", "200", "--log-every", "10", "--eval-every", "100",
         "--checkpoint-every", "10", "--keep-every", "50"]


def train(bism_run, model, out, extra=(), **popen):
    return subprocess.Popen([bism_run, "train", model, "--out", out, *TRAIN,
                             *extra], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, **popen)


def files(folder):
    names = sorted(n for n in os.listdir(folder) if n != ".bism-lock")
    return {n: open(os.path.join(folder, n), "rb").read() for n in names}


def fail(message):
    print("crash_safety: FAILED: " + message)
    sys.exit(1)


def resume_arguments(folder):
    if os.path.exists(os.path.join(folder, "last.ckpt")):
        return ["--resume"]
    # Killed before the first checkpoint: nothing to resume from.
    return ["--overwrite"] if os.path.exists(folder) else []


def kill_loop(bism_run, model, work, kills, seed):
    reference = os.path.join(work, "reference")
    killed = os.path.join(work, "killed")
    start = time.monotonic()
    run = train(bism_run, model, reference)
    _, err = run.communicate()
    if run.returncode != 0:
        fail("reference run: " + err.decode())
    duration = time.monotonic() - start
    rng = random.Random(seed)
    done, kill_count, runs = False, 0, 0
    # The last kills wait for a final file to appear, then kill at once:
    # between the kept step-200.ckpt, last.ckpt, metrics and the PNGs.
    final_files = ["step-200.ckpt", "last.ckpt", "density.png", "samples.png"]
    while not done:
        runs += 1
        if runs > 10 * kills:
            fail("no end after %d runs" % runs)
        process = train(bism_run, model, killed, resume_arguments(killed))
        if kill_count < kills:
            target = None
            if kill_count >= kills - len(final_files):
                target = os.path.join(killed,
                                      final_files[kill_count - (kills - len(final_files))])
            deadline = time.monotonic() + rng.uniform(0.0, duration)
            while process.poll() is None:
                if target is not None:
                    if os.path.exists(target):
                        break
                elif time.monotonic() >= deadline:
                    break
                time.sleep(0.0005)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
                kill_count += 1
                continue
        _, err = process.communicate()
        if process.returncode != 0:
            fail("run %d after %d kills: %s" % (runs, kill_count, err.decode()))
        done = kill_count >= kills
    want, got = files(reference), files(killed)
    if sorted(want) != sorted(got):
        fail("files differ: %s vs %s" % (sorted(want), sorted(got)))
    for name in want:
        if want[name] != got[name]:
            fail("%s differs from the uninterrupted run's" % name)
    print("kill-loop: %d kills in %d runs; %d files byte-identical to the "
          "uninterrupted run (%s)" % (kill_count, runs, len(want),
                                      ", ".join(sorted(want))))


def two_writers(bism_run, model, work):
    reference = os.path.join(work, "reference")
    run = train(bism_run, model, reference, ["--iters", "2000"])
    _, err = run.communicate()
    if run.returncode:
        fail(err.decode())
    folder = os.path.join(work, "shared")
    first = train(bism_run, model, folder, ["--iters", "2000"])
    while not os.path.exists(os.path.join(folder, "last.ckpt")):
        if first.poll() is not None:
            fail("the first run ended early")
        time.sleep(0.001)
    for extra in (["--overwrite", "--set", "lr_theta=0.5"], ["--resume"]):
        second = train(bism_run, model, folder, ["--iters", "2000", *extra])
        _, err = second.communicate()
        message = err.decode()
        if second.returncode != 1 or "is in use by pid %d" % first.pid not in message:
            fail("second writer %s: exit %d: %s" % (extra, second.returncode, message))
    _, err = first.communicate()
    if first.returncode:
        fail("first run: " + err.decode())
    if files(reference) != files(folder):
        fail("the first run's files differ from an undisturbed run's")
    print("two-writers: the second writer was refused (%s); the first run's "
          "%d files are as if alone" % (message.strip(), len(files(folder))))


def full_disk(bism_run, model, work):
    mount = os.path.join(work, "disk")
    os.makedirs(mount, exist_ok=True)
    # A 64 KiB tmpfs: the model's checkpoints are 12 KB, so a few fit and
    # then the disk fills during the run.
    script = ("mount -t tmpfs -o size=64k tmpfs %s && %s train %s --out %s/run "
              "%s --keep-every 10 --no-png; echo exit=$?; "
              "%s eval %s/run --ll none" % (
                  mount, bism_run, model, mount, " ".join(TRAIN), bism_run, mount))
    for prefix in (["unshare", "-rm"], ["unshare", "-m"]):
        probe = subprocess.run(prefix + ["true"], capture_output=True)
        if probe.returncode == 0:
            break
    else:
        print("full-disk: UNSUPPORTED here: no mount namespace (unshare -rm: %s)"
              % probe.stderr.decode().strip())
        return
    result = subprocess.run(prefix + ["sh", "-c", script], capture_output=True)
    out, err = result.stdout.decode(), result.stderr.decode()
    if "exit=1" not in out:
        fail("a full disk did not fail the run with exit 1: " + out + err)
    if "No space left on device" not in err:
        fail("the error does not say the disk is full: " + err)
    if result.returncode != 0:
        fail("the last good checkpoint is not readable: " + err)
    error = [l for l in err.splitlines() if "error" in l][0]
    print("full-disk: %s; eval of the last good checkpoint: %s" % (
        error, out.strip().splitlines()[-1]))


def main():
    if len(sys.argv) < 5:
        print(__doc__)
        sys.exit(2)
    mode, bism_run, model, work = sys.argv[1:5]
    options = sys.argv[5:]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if mode == "kill-loop":
        kills = int(options[options.index("--kills") + 1]) if "--kills" in options else 20
        seed = int(options[options.index("--seed") + 1]) if "--seed" in options else 1
        kill_loop(bism_run, model, work, kills, seed)
    elif mode == "two-writers":
        two_writers(bism_run, model, work)
    elif mode == "full-disk":
        full_disk(bism_run, model, work)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
