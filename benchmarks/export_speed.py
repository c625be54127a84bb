"""How fast are the exported gradients? (Not a test: run it by hand.)

    python benchmarks/export_speed.py [--quick] [--threads N]
    python benchmarks/export_speed.py --target torch|jax [--quick]   # framework_speed.py

``--threads N`` pins every library (OpenBLAS/MKL/OpenMP and PyTorch) to N threads; on a
shared, loaded machine 1 gives far steadier numbers than oversubscribed BLAS threads.

Compares, on the same parameters and data, the `gradients` of the module that
`derive.export_numpy` generates with a hand-written NumPy δ-recursion (for the
layer-norm residual case, the textbook layer-norm backward typed in by hand), and with
PyTorch autograd and ``jax.jit(jax.grad)`` when those are importable. A second table
times the module's `loss_and_gradients` (one forward pass) against calling `loss` and
then `gradients`. Each timing is the median
of many repeats; the implementations are timed in turn within every repeat, so a
change in machine load hits them alike. Ratios are relative to the hand-written code
(below 1.05 is the target).
"""
import os
import statistics
import sys
import time


def _threads(argv):
    if "--threads" in argv:
        return int(argv[argv.index("--threads") + 1])
    return None


THREADS = _threads(sys.argv) if __name__ == "__main__" else None
if THREADS is not None:      # must happen before NumPy loads its BLAS
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = str(THREADS)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from derive import Network, export_numpy  # noqa: E402

#: the §1b options of the layer-norm residual case (hidden layers 2 … L−1 add their input)
LN_RESIDUAL = dict(norm="layer", residual=True)

CASES = [  # (label, widths, hidden, output, loss, batch size[, §1b options])
    ("[4,8,8,1] σ/bce m=1", (4, 8, 8, 1), "sigmoid", "sigmoid", "bce", 1),
    ("[4,8,8,1] σ/bce m=32", (4, 8, 8, 1), "sigmoid", "sigmoid", "bce", 32),
    ("[784,256,256,10] σ/softmax-cce m=128", (784, 256, 256, 10), "sigmoid", "softmax",
     "cce", 128),
    ("[784,256,256,10] tanh/mse m=128", (784, 256, 256, 10), "tanh", "identity", "mse", 128),
    ("20×tanh width 32 mse m=64", (32,) * 21, "tanh", "tanh", "mse", 64),
    ("[1024,2048,2048,10] relu/softmax-cce m=256", (1024, 2048, 2048, 10), "relu", "softmax",
     "cce", 256),
    ("[784,256,256,256,10] LN-residual tanh/softmax-cce m=128", (784, 256, 256, 256, 10),
     "tanh", "softmax", "cce", 128, LN_RESIDUAL),
]

# --- the hand-written reference: what one would type from the lecture notes ----------
ACT = {"sigmoid": lambda h: 1 / (1 + np.exp(-h)), "tanh": np.tanh,
       "relu": lambda h: np.maximum(h, 0), "identity": lambda h: h}
PRIME = {"sigmoid": lambda z: z * (1 - z), "tanh": lambda z: 1 - z * z,
         "relu": lambda z: z > 0, "identity": None}


def softmax(h):
    e = np.exp(h - h.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def hand_gradients(params, X, Y, acts, loss):
    Ws, bs = params[0::2], params[1::2]
    zs = [X]
    for W, b, act in zip(Ws, bs, acts):
        h = W @ zs[-1] + b
        zs.append(softmax(h) if act == "softmax" else ACT[act](h))
    m = X.shape[1]
    z = zs[-1]
    delta = (z - Y) / m          # σ/bce, softmax/cce, identity/mse
    if loss == "mse" and acts[-1] != "identity":
        delta = delta * PRIME[acts[-1]](z)
    grads = []
    for l in range(len(Ws) - 1, -1, -1):
        grads.append(delta.sum(axis=1, keepdims=True))
        grads.append(delta @ zs[l].T)
        if l:
            prime = PRIME[acts[l - 1]]
            delta = Ws[l].T @ delta
            if prime is not None:
                delta = delta * prime(zs[l])
    return grads[::-1]


def hand_ln_residual_gradients(params, X, Y, acts, loss, eps=1e-5):
    """Layer norm → activation → residual add in hidden layers (the residual from layer
    2 on), softmax-cce output; the layer-norm backward in its textbook form."""
    L = len(acts)
    z, cache = X, []
    for l in range(1, L):
        W, b, gamma, beta = params[4 * (l - 1):4 * l]
        h = W @ z + b
        d = h - h.mean(axis=0, keepdims=True)
        inv = 1 / np.sqrt((d * d).mean(axis=0, keepdims=True) + eps)
        xhat = d * inv
        a = ACT[acts[l - 1]](gamma * xhat + beta)
        cache.append((z, xhat, inv, a))
        z = z + a if l >= 2 else a
    W, b = params[-2:]
    delta = (softmax(W @ z + b) - Y) / X.shape[1]
    grads = [delta.sum(axis=1, keepdims=True), delta @ z.T]
    dz = W.T @ delta
    for l in range(L - 1, 0, -1):
        W, gamma = params[4 * (l - 1)], params[4 * (l - 1) + 2]
        zin, xhat, inv, a = cache[l - 1]
        dhhat = dz * PRIME[acts[l - 1]](a)
        grads += [dhhat.sum(axis=1, keepdims=True), (dhhat * xhat).sum(axis=1, keepdims=True)]
        g = dhhat * gamma
        n = g.shape[0]
        dh = (inv / n) * (n * g - g.sum(axis=0, keepdims=True)
                          - xhat * (g * xhat).sum(axis=0, keepdims=True))
        grads += [dh.sum(axis=1, keepdims=True), dh @ zin.T]
        back = W.T @ dh
        dz = back + dz if l >= 2 else back
    return grads[::-1]


def hand_for(options):
    return hand_ln_residual_gradients if options else hand_gradients


# --- optional frameworks ---------------------------------------------------------------
def torch_gradients_factory(acts, loss, options=None):
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # no spinning between calls
    try:
        import torch
    except ImportError:
        return None
    if THREADS is not None:
        torch.set_num_threads(THREADS)
    fns = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
           "identity": lambda h: h}

    def ln_grads(tparams, X, Y):
        z = X
        for l in range(1, len(acts)):
            W, b, gamma, beta = tparams[4 * (l - 1):4 * l]
            h = torch.nn.functional.layer_norm((W @ z + b).T, (W.shape[0],), gamma[:, 0],
                                               beta[:, 0], eps=1e-5).T
            a = fns[acts[l - 1]](h)
            z = z + a if l >= 2 else a
        W, b = tparams[-2:]
        J = -(Y * torch.log_softmax(W @ z + b, dim=0)).sum() / X.shape[1]
        return torch.autograd.grad(J, tparams)

    if options:
        return torch, ln_grads

    def grads(tparams, X, Y):
        z = X
        for W, b, act in zip(tparams[0::2], tparams[1::2], acts):
            h = W @ z + b
            if act == "softmax":
                z = torch.log_softmax(h, dim=0)       # log-probabilities for the loss
            else:
                z = fns[act](h)
        m = X.shape[1]
        if loss == "cce":
            J = -(Y * z).sum() / m
        elif loss == "bce":
            J = torch.nn.functional.binary_cross_entropy(z, Y, reduction="sum") / m
        else:
            J = 0.5 * ((z - Y) ** 2).sum() / m
        return torch.autograd.grad(J, tparams)
    return torch, grads


def jax_gradients_factory(acts, loss):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    fns = {"sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh, "relu": jax.nn.relu,
           "identity": lambda h: h}

    def J(params, X, Y):
        z = X
        for W, b, act in zip(params[0::2], params[1::2], acts):
            h = W @ z + b
            z = jax.nn.log_softmax(h, axis=0) if act == "softmax" else fns[act](h)
        m = X.shape[1]
        if loss == "cce":
            return -(Y * z).sum() / m
        if loss == "bce":
            return -(Y * jnp.log(z) + (1 - Y) * jnp.log1p(-z)).sum() / m
        return 0.5 * ((z - Y) ** 2).sum() / m
    return jax, jax.jit(jax.grad(J))


# --- timing ------------------------------------------------------------------------------
def median_times(funcs, budget, rounds=5):
    """Median seconds per call of each function within ~budget seconds.

    The functions take turns in blocks (``rounds`` blocks each), so slow drifts in
    machine load hit them alike, while one library's lingering worker threads (OpenMP
    spin-waiting after PyTorch) only touch the first call of the next block."""
    for _ in range(3):
        for f in funcs:
            f()
    per_block = []
    for f in funcs:
        start = time.perf_counter()
        f()
        once = time.perf_counter() - start
        per_block.append(int(min(600, max(3, budget / len(funcs) / rounds / max(once, 1e-9)))))
    times = [[] for _ in funcs]
    for _ in range(rounds):
        for k, f in enumerate(funcs):
            f()                                  # settle after the previous library
            for _ in range(per_block[k]):
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times], len(times[0])


def make_case(widths, hidden, output, loss, m, options=None, dtype=np.float32):
    """The exported module, its parameters (W_l, b_l[, γ_l, β_l]), X and Y."""
    acts = (hidden,) * (len(widths) - 2) + (output,)
    g = export_numpy(Network(activations=acts, loss=loss, bias="explicit", batch=True,
                             **(options or {})))
    rng = np.random.default_rng(0)
    params = []
    for l in range(1, len(widths)):
        params.append((rng.normal(size=(widths[l], widths[l - 1])) /
                       np.sqrt(widths[l - 1])).astype(dtype))
        params.append((0.1 * rng.normal(size=(widths[l], 1))).astype(dtype))
        if options and l < len(widths) - 1:
            params.append((1 + 0.1 * rng.normal(size=(widths[l], 1))).astype(dtype))
            params.append((0.1 * rng.normal(size=(widths[l], 1))).astype(dtype))
    X = rng.normal(size=(widths[0], m)).astype(dtype)
    if output == "softmax":
        Y = np.eye(widths[-1], dtype=dtype)[:, rng.integers(0, widths[-1], m)]
    elif loss == "bce":
        Y = rng.integers(0, 2, size=(widths[-1], m)).astype(dtype)
    else:
        Y = rng.normal(size=(widths[-1], m)).astype(dtype)
    return g, acts, params, X, Y


def run_case(widths, hidden, output, loss, m, options=None, budget=3.0):
    g, acts, params, X, Y = make_case(widths, hidden, output, loss, m, options)
    hand = hand_for(options)
    ours, ref = g.gradients(params, X, Y), hand(params, X, Y, acts, loss)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-5)
    funcs = [lambda: g.gradients(params, X, Y), lambda: hand(params, X, Y, acts, loss)]
    names = ["exported", "hand"]
    torch_pair = torch_gradients_factory(acts, loss, options)
    if torch_pair is not None:
        torch, tgrads = torch_pair
        tparams = [torch.tensor(p, requires_grad=True) for p in params]
        tX, tY = torch.tensor(X), torch.tensor(Y)
        funcs.append(lambda: tgrads(tparams, tX, tY))
        names.append("torch")
    jax_pair = None if options else jax_gradients_factory(acts, loss)
    if jax_pair is not None:
        jax, jgrad = jax_pair
        jp = [jax.numpy.asarray(p) for p in params]
        jX, jY = jax.numpy.asarray(X), jax.numpy.asarray(Y)
        funcs.append(lambda: jax.block_until_ready(jgrad(jp, jX, jY)))
        names.append("jax")
    medians, repeats = median_times(funcs, budget)
    return dict(zip(names, medians)), repeats


def run_fused(widths, hidden, output, loss, m, options=None, budget=3.0):
    """loss_and_gradients (one forward pass) against loss, then gradients."""
    g, _, params, X, Y = make_case(widths, hidden, output, loss, m, options)

    def apart():
        g.loss(params, X, Y)
        g.gradients(params, X, Y)
    (fused, split), repeats = median_times([lambda: g.loss_and_gradients(params, X, Y), apart],
                                           budget)
    return fused, split, repeats


def fmt(seconds):
    return f"{seconds * 1e6:9.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:9.2f} ms"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--target" in argv:           # the torch / jax exports: benchmarks/framework_speed.py
        import framework_speed
        return framework_speed.main(argv)
    budget = 0.5 if "--quick" in argv else 3.0
    rows = []
    for case in CASES:
        times, repeats = run_case(*case[1:], budget=budget)
        rows.append((case[0], times, repeats))
    others = [name for name in ("torch", "jax") if name in rows[0][1]]
    for row in rows:   # jax is not run on the layer-norm case: a dash there
        row[1].update({n: float("nan") for n in others if n not in row[1]})
    head = "| case | repeats | exported | hand NumPy | exported/hand |"
    head += "".join(f" {n} | exported/{n} |" for n in others)
    print(head)
    print("|" + "---|" * (4 + 1 + 2 * len(others)))
    for label, times, repeats in rows:
        line = (f"| {label} | {repeats} | {fmt(times['exported'])} | {fmt(times['hand'])} | "
                f"{times['exported'] / times['hand']:.3f} |")
        for n in others:
            line += f" {fmt(times[n])} | {times['exported'] / times[n]:.3f} |"
        print(line)
    print(f"float32, bias explicit, batch mean; median per call; implementations take turns "
          f"in blocks; threads: {THREADS or 'library default'}.")
    print()
    print("| case | repeats | loss_and_gradients | loss, then gradients | ratio |")
    print("|---|---|---|---|---|")
    for case in CASES:
        fused, split, repeats = run_fused(*case[1:], budget=budget)
        print(f"| {case[0]} | {repeats} | {fmt(fused)} | {fmt(split)} | {fused / split:.3f} |")


if __name__ == "__main__":
    main()
