#!/usr/bin/python3
"""A Fréchet distance for Fashion-MNIST samples (docs/evaluation.md): FID's
recipe with a small classifier trained here in place of the Inception
network, which cannot be had offline.

    examples/deep/frechet.py train [--out FILE] [--epochs E] [--seed S]
    examples/deep/frechet.py score SAMPLES.npy [--classifier FILE] [--json]
    examples/deep/frechet.py selftest

Debian's python3 and python3-numpy only (scripts/deps.sh installs numpy;
the `python3` of a virtual environment or pyenv may lack it, hence the
shebang). `train` fits an MLP 784-512-128-10 (ReLU, Adam, cross-entropy)
to the Fashion-MNIST labels, read from the Debian package
dataset-fashion-mnist's IDX files, and writes its weights with its test
accuracy to $BISM_CACHE_DIR, else $XDG_CACHE_HOME/bism, else
~/.cache/bism (fashion_classifier.npz). `score` takes the 128 ReLU units
of its second hidden layer as features, fits a Gaussian to the features
of the samples and one to those of the 10,000 test images, and prints the
Fréchet distance between them,

    FD = ||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)),

with the floor to read it against: the mean FD of random subsets of the
training images, as many as the samples, to the same test images (FD is
biased upwards at small n: real images score well above 0 at n = 100).
"""

import argparse
import gzip
import io
import json
import math
import os
import struct
import sys
import tempfile
import time

try:
    import numpy as np
except ImportError:  # reported by main(), by subcommand
    np = None

PROG = "frechet.py"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
           "Shirt", "Sneaker", "Bag", "Ankle boot"]
SIZES = (784, 512, 128, 10)
FEATURES = "relu(h2): the 128 ReLU units of the MLP's second hidden layer"
FORMAT = 1
SYSTEM_DATA = "/usr/share/datasets/fashion-mnist"


class Failure(Exception):
    """An error for the user: printed as one line, exit status 1."""


# --- paths -----------------------------------------------------------------

def cache_directory():
    """bism's cache directory, as lib/Execution/JitModule.cpp finds it."""
    directory = os.environ.get("BISM_CACHE_DIR", "")
    if directory:
        return directory
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):  # XDG ignores relative paths
        return os.path.join(xdg, "bism")
    return os.path.join(os.path.expanduser("~"), ".cache", "bism")


def default_classifier():
    return os.path.join(cache_directory(), "fashion_classifier.npz")


def data_file(name, data_dir):
    """A Fashion-MNIST file, looked for where runtime/src/Dataset.cpp looks:
    --data-dir, $BISM_DATA_DIR/fashion-mnist, then the Debian package's."""
    tried = []
    if data_dir:
        tried.append(os.path.join(data_dir, name))
    if os.environ.get("BISM_DATA_DIR"):
        tried.append(os.path.join(os.environ["BISM_DATA_DIR"],
                                  "fashion-mnist", name))
    tried.append(os.path.join(SYSTEM_DATA, name))
    for path in tried:
        if os.path.isfile(path):
            return path
    raise Failure(f"cannot find {name}; tried {', '.join(tried)} "
                  "(Debian package dataset-fashion-mnist)")


# --- IDX files -------------------------------------------------------------

def read_idx(path):
    """An IDX file of unsigned bytes (gzipped or not) as a uint8 array."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as e:
        raise Failure(f"cannot read {path}: {e}")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise Failure(f"{path}: not an IDX file (bad magic number)")
    if raw[2] != 0x08:
        raise Failure(f"{path}: IDX element type 0x{raw[2]:02x}, "
                      "expected 0x08 (unsigned byte)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise Failure(f"{path}: IDX header truncated")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    count = math.prod(shape)
    if len(raw) - header != count:
        raise Failure(f"{path}: {len(raw) - header} bytes of data, shape "
                      f"{'x'.join(map(str, shape))} needs {count}")
    return np.frombuffer(raw, np.uint8, count, header).reshape(shape)


def load_split(split, data_dir=None):
    """(images [n, 784] float32 in [0, 1], labels [n] int64)."""
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(data_file(f"{prefix}-images-idx3-ubyte.gz", data_dir))
    labels = read_idx(data_file(f"{prefix}-labels-idx1-ubyte.gz", data_dir))
    if images.ndim != 3 or images.shape[1:] != (28, 28) or \
            labels.shape != (images.shape[0],):
        raise Failure(f"Fashion-MNIST {split} split: images "
                      f"{images.shape}, labels {labels.shape}")
    return (images.reshape(-1, 784).astype(np.float32) / np.float32(255),
            labels.astype(np.int64))


# --- the classifier --------------------------------------------------------

def init_params(rng):
    """He-normal weights, zero biases."""
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:]), 1):
        params[f"W{i}"] = (rng.standard_normal((fan_in, fan_out)) *
                           math.sqrt(2.0 / fan_in)).astype(np.float32)
        params[f"b{i}"] = np.zeros(fan_out, np.float32)
    return params


def forward(params, x, mean, std):
    """Pre-activations and activations of the MLP on rows x in [0, 1]."""
    a0 = (x - mean) / std
    z1 = a0 @ params["W1"] + params["b1"]
    a1 = np.maximum(z1, 0)
    z2 = a1 @ params["W2"] + params["b2"]
    a2 = np.maximum(z2, 0)
    logits = a2 @ params["W3"] + params["b3"]
    return a0, a1, a2, logits


def loss_and_grads(params, x, y, mean, std):
    """Mean cross-entropy and its gradients."""
    a0, a1, a2, logits = forward(params, x, mean, std)
    logits = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.mean(np.log(p[np.arange(n), y] + 1e-30))
    d3 = p
    d3[np.arange(n), y] -= 1
    d3 /= n
    grads = {"W3": a2.T @ d3, "b3": d3.sum(axis=0)}
    d2 = (d3 @ params["W3"].T) * (a2 > 0)
    grads["W2"], grads["b2"] = a1.T @ d2, d2.sum(axis=0)
    d1 = (d2 @ params["W2"].T) * (a1 > 0)
    grads["W1"], grads["b1"] = a0.T @ d1, d1.sum(axis=0)
    return loss, grads


def predict(classifier, x, batch=4096):
    """(features [n, 128] float64, predicted classes [n])."""
    features, classes = [], []
    for start in range(0, x.shape[0], batch):
        _, _, a2, logits = forward(classifier["params"],
                                   x[start:start + batch].astype(np.float32),
                                   classifier["mean"], classifier["std"])
        features.append(a2.astype(np.float64))
        classes.append(logits.argmax(axis=1))
    return np.concatenate(features), np.concatenate(classes)


def save_classifier(path, params, mean, std, accuracy, epochs, seed):
    """Writes the .npz next to its final name, then renames it there."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".fashion_classifier.", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **params,
                     input_mean=np.float32(mean), input_std=np.float32(std),
                     test_accuracy=np.float64(accuracy),
                     architecture=np.array("mlp " + "-".join(map(str, SIZES))
                                           + " relu"),
                     feature_layer=np.array(FEATURES),
                     epochs=np.int64(epochs), seed=np.int64(seed),
                     format=np.int64(FORMAT))
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's is 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_classifier(path):
    if not os.path.isfile(path):
        raise Failure(f"no classifier at {path}; make it (about a minute) "
                      f"with: examples/deep/frechet.py train --out {path}")
    try:
        with open(path, "rb") as f:
            if f.read(2) != b"PK":
                raise ValueError("not an .npz archive")
        with np.load(path, allow_pickle=False) as z:
            if int(z["format"]) != FORMAT:
                raise Failure(f"{path}: classifier format {int(z['format'])}"
                              f", this script reads {FORMAT}; retrain it")
            params = {k: z[k].astype(np.float32)
                      for k in ("W1", "b1", "W2", "b2", "W3", "b3")}
            classifier = {
                "path": path, "params": params,
                "mean": np.float32(z["input_mean"]),
                "std": np.float32(z["input_std"]),
                "accuracy": float(z["test_accuracy"]),
                "architecture": str(z["architecture"]),
                "features": str(z["feature_layer"]),
            }
    except Failure:
        raise
    except (OSError, ValueError, KeyError, EOFError) as e:
        raise Failure(f"{path}: not a classifier file of this script ({e}); "
                      f"remake it with: examples/deep/frechet.py train "
                      f"--out {path}")
    for i, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:]), 1):
        if params[f"W{i}"].shape != (fan_in, fan_out) or \
                params[f"b{i}"].shape != (fan_out,):
            raise Failure(f"{path}: layer {i} has shape "
                          f"{params[f'W{i}'].shape}, expected "
                          f"{(fan_in, fan_out)}; retrain it")
    return classifier


def command_train(args):
    rng = np.random.default_rng(args.seed)
    start = time.time()
    x_train, y_train = load_split("train", args.data_dir)
    x_test, y_test = load_split("test", args.data_dir)
    mean, std = float(x_train.mean()), float(x_train.std())
    params = init_params(rng)
    moments = {k: (np.zeros_like(v), np.zeros_like(v))
               for k, v in params.items()}
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    steps_per_epoch = math.ceil(x_train.shape[0] / args.batch)
    total_steps = args.epochs * steps_per_epoch
    step = 0
    say(f"training MLP {'-'.join(map(str, SIZES))} on "
        f"{x_train.shape[0]} images: {args.epochs} epochs, batch "
        f"{args.batch}, Adam lr {args.lr} (cosine decay), weight decay "
        f"{args.weight_decay}, seed {args.seed}")
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        order = rng.permutation(x_train.shape[0])
        total_loss, seen = 0.0, 0
        for b in range(steps_per_epoch):
            idx = order[b * args.batch:(b + 1) * args.batch]
            loss, grads = loss_and_grads(params, x_train[idx], y_train[idx],
                                         mean, std)
            total_loss += float(loss) * idx.size
            seen += idx.size
            step += 1
            lr = args.lr * 0.5 * (1 + math.cos(math.pi * (step - 1) /
                                               total_steps))
            c1, c2 = 1 - beta1 ** step, 1 - beta2 ** step
            for k, g in grads.items():
                m, v = moments[k]
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * g * g
                update = (m / c1) / (np.sqrt(v / c2) + eps)
                if k.startswith("W") and args.weight_decay:
                    update += args.weight_decay * params[k]  # decoupled
                params[k] -= np.float32(lr) * update.astype(np.float32)
        classifier = {"params": params, "mean": np.float32(mean),
                      "std": np.float32(std)}
        accuracy = float(np.mean(predict(classifier, x_test)[1] == y_test))
        say(f"epoch {epoch}/{args.epochs}: train loss "
            f"{total_loss / seen:.4f}, test accuracy {100 * accuracy:.2f}%, "
            f"{time.time() - t0:.1f} s")
    save_classifier(args.out, params, mean, std, accuracy, args.epochs,
                    args.seed)
    say(f"test accuracy {100 * accuracy:.2f}% (10000 test images); wrote "
        f"{args.out} in {time.time() - start:.0f} s")
    return 0


# --- the Fréchet distance --------------------------------------------------

def trace_sqrt_product(s1, s2):
    """tr (S1 S2)^(1/2) for symmetric PSD S1, S2. S1 S2 is similar to
    R S2 R, R = S1^(1/2) = V diag(sqrt w) V^T (eigh), a symmetric PSD
    matrix whose eigenvalues eigvalsh gives stably; it is computed in the
    basis V, keeping only the directions where w is above round-off
    (elsewhere R is 0, and the square roots of round-off eigenvalues would
    add up to a spurious ~1e-6 with singular covariances). Eigenvalues
    below 0 (round-off) count as 0. (scipy's sqrtm of S1 S2, which
    pytorch-fid uses, can return complex round-off for singular S1.)"""
    w, v = np.linalg.eigh((s1 + s1.T) / 2)
    keep = w > max(w[-1], 0) * len(w) * np.finfo(np.float64).eps
    root = np.sqrt(w[keep])
    m = root[:, None] * (v[:, keep].T @ s2 @ v[:, keep]) * root[None, :]
    eig = np.linalg.eigvalsh((m + m.T) / 2)
    return float(np.sqrt(np.clip(eig, 0, None)).sum())


def frechet_distance(mu1, s1, mu2, s2):
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(s1, np.float64), np.asarray(s2, np.float64)
    tr_sqrt = trace_sqrt_product(s1, s2)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def gaussian(features):
    """Mean and covariance (n - 1 normalised, as FID) of rows."""
    features = np.asarray(features, np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_of_features(a, b):
    return frechet_distance(*gaussian(a), *gaussian(b))


# --- samples ---------------------------------------------------------------

def load_samples(path):
    """(samples [n, 784] float64 clipped to [0, 1], values clipped,
    description)."""
    if not os.path.isfile(path):
        raise Failure(f"cannot open {path}: no such file")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
        if magic[:2] == b"PK":
            raise Failure(f"{path}: an .npz archive, expected one .npy array")
        if magic != b"\x93NUMPY":
            raise Failure(f"{path}: not a .npy file (no NUMPY magic)")
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise Failure(f"{path}: not a readable .npy file ({e})")
    if not isinstance(x, np.ndarray):
        raise Failure(f"{path}: not one .npy array")
    description = f"{x.dtype} {list(x.shape)}"
    if x.dtype == np.uint8:  # raw pixels, as bism's .npy data sets
        x = x.astype(np.float64) / 255
    elif x.dtype not in (np.float32, np.float64):
        raise Failure(f"{path}: dtype {x.dtype}, expected float32 or float64"
                      " (or uint8 pixels)")
    if x.ndim == 2 and x.shape[1] == 784:
        pass
    elif x.ndim == 3 and x.shape[1:] == (28, 28):
        x = x.reshape(x.shape[0], 784)
    elif x.ndim == 4 and x.shape[1:] == (1, 28, 28):
        x = x.reshape(x.shape[0], 784)
    else:
        raise Failure(f"{path}: shape {list(x.shape)}, expected [n, 784], "
                      "[n, 28, 28] or [n, 1, 28, 28] (28x28 grey images)")
    if x.shape[0] < 2:
        raise Failure(f"{path}: {x.shape[0]} sample(s); a covariance needs "
                      "at least 2 (FD means something from a few hundred)")
    x = np.asarray(x, np.float64)
    bad = int(np.count_nonzero(~np.isfinite(x)))
    if bad:
        raise Failure(f"{path}: {bad} value(s) NaN or infinite")
    clipped = int(np.count_nonzero((x < 0) | (x > 1)))
    return np.clip(x, 0, 1), clipped, description


def command_score(args):
    classifier = load_classifier(args.classifier or default_classifier())
    samples, clipped, description = load_samples(args.samples)
    n = samples.shape[0]
    floor_split = "train" if args.reference == "test" else "test"
    x_ref, y_ref = load_split(args.reference, args.data_dir)
    x_floor, _ = load_split(floor_split, args.data_dir)

    f_samples, c_samples = predict(classifier, samples)
    f_ref, c_ref = predict(classifier, x_ref)
    f_floor, _ = predict(classifier, x_floor)
    ref_stats = gaussian(f_ref)
    fd = frechet_distance(*gaussian(f_samples), *ref_stats)

    rng = np.random.default_rng(args.floor_seed)
    m = min(n, f_floor.shape[0])
    floors = [frechet_distance(*gaussian(
        f_floor[rng.choice(f_floor.shape[0], m, replace=False)]), *ref_stats)
        for _ in range(args.floor_repeats)]
    floor_all = frechet_distance(*gaussian(f_floor), *ref_stats)
    floor_mean = float(np.mean(floors))
    floor_sd = float(np.std(floors, ddof=1)) if len(floors) > 1 else 0.0

    counts = np.bincount(c_samples, minlength=10)
    reference_accuracy = (float(np.mean(c_ref == y_ref))
                          if args.reference == "test" else None)
    result = {
        "samples": args.samples, "count": n, "input": description,
        "clipped_values": clipped,
        "frechet_distance": fd,
        "reference": args.reference, "reference_count": int(f_ref.shape[0]),
        "floor": {"mean": floor_mean, "sd": floor_sd, "count": m,
                  "repeats": args.floor_repeats, "split": floor_split,
                  "values": floors, "seed": args.floor_seed},
        "floor_all": {"count": int(f_floor.shape[0]), "value": floor_all},
        "classifier": {"path": classifier["path"],
                       "architecture": classifier["architecture"],
                       "features": classifier["features"],
                       "test_accuracy": classifier["accuracy"]},
        "predicted_classes": {c: int(k) for c, k in zip(CLASSES, counts)},
    }

    say(f"{n} samples from {args.samples} ({description}); {clipped} "
        f"value{'s' if clipped != 1 else ''} outside [0, 1] clipped")
    say(f"classifier {classifier['path']}: {classifier['architecture']}, "
        f"test accuracy {100 * classifier['accuracy']:.2f}%; features: "
        f"{classifier['features']}")
    if reference_accuracy is not None and \
            abs(reference_accuracy - classifier["accuracy"]) > 1e-6:
        say(f"warning: the classifier scores {100 * reference_accuracy:.2f}%"
            " on the test images here, not the accuracy stored with it")
    say(f"Fréchet distance to the {f_ref.shape[0]} {args.reference} "
        f"images: {fd:.3f}")
    say(f"floor at n = {m}: {floor_mean:.3f} ± {floor_sd:.3f} (mean ± sd "
        f"of {args.floor_repeats} random {m}-image subsets of the "
        f"{floor_split} images); all {f_floor.shape[0]} {floor_split} "
        f"images: {floor_all:.3f}")
    if m < n:
        say(f"note: only {m} {floor_split} images for the floor, fewer "
            f"than the {n} samples")
    say("predicted classes: " + ", ".join(
        f"{c} {k}" for c, k in zip(CLASSES, counts)) +
        f" (largest {100 * counts.max() / n:.0f}%, 10% each in the data)")
    if args.json:
        print(json.dumps(result))
    return 0


# --- self-test ---------------------------------------------------------------

def command_selftest(args):
    start = time.time()
    rng = np.random.default_rng(0)
    failures = []

    def check(name, ok, detail=""):
        if not ok:
            failures.append(f"{name} {detail}".strip())
        say(f"{'ok  ' if ok else 'FAIL'} {name} {detail}".rstrip())

    # Diagonal covariances: tr (S1 S2)^(1/2) = sum sqrt(a b), so
    # FD = ||mu1 - mu2||^2 + sum (sqrt a - sqrt b)^2.
    d = 16
    a, b = rng.uniform(0.1, 3, d), rng.uniform(0.1, 3, d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    exact = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    got = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    check("diagonal closed form", abs(got - exact) < 1e-10 * exact,
          f"{got:.12g} vs {exact:.12g}")

    # The same in a random rotated basis (commuting, not diagonal).
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    got = frechet_distance(mu1, q @ np.diag(a) @ q.T,
                           mu2, q @ np.diag(b) @ q.T)
    check("rotated closed form", abs(got - exact) < 1e-9 * exact,
          f"{got:.12g} vs {exact:.12g}")

    # Non-commuting: against the eigenvalues of S1 S2 (real, >= 0), and
    # symmetric in its arguments.
    x1, x2 = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    s1, s2 = x1 @ x1.T + 0.1 * np.eye(d), x2 @ x2.T + 0.1 * np.eye(d)
    tr = np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None)).sum()
    exact = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr
    got = frechet_distance(mu1, s1, mu2, s2)
    swapped = frechet_distance(mu2, s2, mu1, s1)
    check("general case vs eig(S1 S2)", abs(got - exact) < 1e-8 * exact,
          f"{got:.12g} vs {exact:.12g}")
    check("symmetric", abs(got - swapped) < 1e-8 * exact,
          f"{got:.12g} vs {swapped:.12g}")

    # FD(x, x) = 0, order invariance, and finite with rank-deficient
    # covariances (fewer samples than dimensions; ReLU units always 0).
    x = rng.standard_normal((50, 128)) * rng.uniform(0, 2, 128)
    x[:, :10] = 0
    y = rng.standard_normal((50, 128)) + 0.3
    scale = frechet_of_features(x, y)
    self_fd = frechet_of_features(x, x)
    check("FD(x, x) = 0", abs(self_fd) < 1e-9 * scale, f"{self_fd:.3g}")
    shuffled = frechet_of_features(x[rng.permutation(50)], y)
    check("invariant to sample order", abs(shuffled - scale) < 1e-9 * scale,
          f"{shuffled:.12g} vs {scale:.12g}")
    check("rank-deficient covariances", math.isfinite(scale) and scale > 0,
          f"{scale:.6g}")

    # Samples of two Gaussians: the empirical FD tends to the closed form.
    d = 4
    a, b = rng.uniform(0.5, 2, d), rng.uniform(0.5, 2, d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    exact = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    n = 200000
    got = frechet_of_features(mu1 + np.sqrt(a) * rng.standard_normal((n, d)),
                              mu2 + np.sqrt(b) * rng.standard_normal((n, d)))
    check("sampled Gaussians", abs(got - exact) < 0.05 * exact + 0.01,
          f"{got:.4f} vs {exact:.4f}")

    with tempfile.TemporaryDirectory() as tmp:
        # IDX: a gzipped 3x2x2 image file, a plain label file, a bad one.
        images = np.arange(12, dtype=np.uint8).reshape(3, 2, 2) * 20
        path = os.path.join(tmp, "images-idx3-ubyte.gz")
        with gzip.open(path, "wb") as f:
            f.write(struct.pack(">BBBB3I", 0, 0, 8, 3, 3, 2, 2) +
                    images.tobytes())
        got = read_idx(path)
        check("IDX gzipped images", got.shape == (3, 2, 2) and
              np.array_equal(got, images), f"{got.shape}")
        path = os.path.join(tmp, "labels-idx1-ubyte")
        with open(path, "wb") as f:
            f.write(struct.pack(">BBBBI", 0, 0, 8, 1, 3) + bytes([7, 0, 9]))
        got = read_idx(path)
        check("IDX plain labels", list(got) == [7, 0, 9], f"{list(got)}")
        with open(path, "wb") as f:
            f.write(struct.pack(">BBBBI", 0, 0, 8, 1, 4) + bytes([7, 0, 9]))
        try:
            read_idx(path)
            check("IDX truncated file refused", False)
        except Failure as e:
            check("IDX truncated file refused", "bytes of data" in str(e))

        # Samples: the three shapes, clipping, a wrong shape.
        s = rng.uniform(-0.1, 1.1, (5, 1, 28, 28)).astype(np.float32)
        outside = int(np.count_nonzero((s < 0) | (s > 1)))
        shapes_ok = True
        for shaped in (s, s.reshape(5, 28, 28), s.reshape(5, 784)):
            path = os.path.join(tmp, "s.npy")
            np.save(path, shaped)
            got, clipped, _ = load_samples(path)
            shapes_ok &= (got.shape == (5, 784) and clipped == outside and
                          got.min() >= 0 and got.max() <= 1)
        check("samples: shapes and clipping", shapes_ok)
        np.save(path, np.zeros((5, 27, 28), np.float32))
        try:
            load_samples(path)
            check("samples: wrong shape refused", False)
        except Failure as e:
            check("samples: wrong shape refused", "expected [n, 784]" in str(e))

    # The MLP's gradients against central differences (float64).
    params = {k: v.astype(np.float64)
              for k, v in init_params(np.random.default_rng(1)).items()}
    for k in params:
        if k.startswith("b"):
            params[k] = rng.standard_normal(params[k].shape) * 0.1
    xb, yb = rng.uniform(0, 1, (3, 784)), np.array([1, 4, 9])
    _, grads = loss_and_grads(params, xb, yb, 0.3, 0.35)
    worst = 0.0
    for k in params:
        for _ in range(3):
            i = tuple(rng.integers(0, s) for s in params[k].shape)
            old, h = params[k][i], 1e-6
            params[k][i] = old + h
            up = loss_and_grads(params, xb, yb, 0.3, 0.35)[0]
            params[k][i] = old - h
            down = loss_and_grads(params, xb, yb, 0.3, 0.35)[0]
            params[k][i] = old
            worst = max(worst, abs((up - down) / (2 * h) - grads[k][i]))
    check("MLP gradients vs finite differences", worst < 1e-6,
          f"max error {worst:.2g}")

    say(f"{len(failures)} failure(s), {time.time() - start:.1f} s")
    return 1 if failures else 0


# --- main --------------------------------------------------------------------

def say(message):
    print(message, file=sys.stderr, flush=True)


def main(argv):
    parser = argparse.ArgumentParser(
        prog=PROG, description="Fréchet distance of Fashion-MNIST samples in "
        "the features of a small classifier trained here (FID without "
        "Inception).")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train the classifier")
    p.add_argument("--out", default=None,
                   help=f"default: {default_classifier()}")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--data-dir", default=None,
                   help="directory with the four *-idx?-ubyte.gz files")
    p = sub.add_parser("score", help="score a .npy of samples")
    p.add_argument("samples", help=".npy of [n, 784], [n, 28, 28] or "
                   "[n, 1, 28, 28] images in [0, 1]")
    p.add_argument("--classifier", default=None,
                   help=f"default: {default_classifier()}")
    p.add_argument("--reference", choices=["test", "train"], default="test",
                   help="images to compare against (the floor takes "
                   "subsets of the other split)")
    p.add_argument("--floor-repeats", type=int, default=20)
    p.add_argument("--floor-seed", type=int, default=0)
    p.add_argument("--json", action="store_true",
                   help="one JSON object on stdout")
    p.add_argument("--data-dir", default=None)
    sub.add_parser("selftest", help="check the Fréchet distance, the IDX "
                   "reader and the gradients (fast)")
    args = parser.parse_args(argv)

    if np is None:
        reason = (f"{sys.executable} has no numpy (Debian package "
                  "python3-numpy, which scripts/deps.sh installs); run this "
                  "script as examples/deep/frechet.py or with /usr/bin/python3")
        if args.command == "selftest":
            # 77: CTest's SKIP_RETURN_CODE (test/CMakeLists.txt); the two
            # lines match what scripts/check.sh prints for skipped tests.
            print(f"{PROG} selftest: Skipped\n{reason}", flush=True)
            return 77
        say(f"{PROG}: error: {reason}")
        return 1
    if args.command == "train":
        if args.out is None:
            args.out = default_classifier()
        if args.epochs < 1 or args.batch < 1:
            raise Failure("--epochs and --batch must be at least 1")
    if args.command == "score" and args.floor_repeats < 1:
        raise Failure("--floor-repeats must be at least 1")
    return {"train": command_train, "score": command_score,
            "selftest": command_selftest}[args.command](args)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failure as e:
        say(f"{PROG}: error: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
