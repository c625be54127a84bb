"""How fast are the torch and jax exports? (Not a test: run it by hand.)

    python benchmarks/export_speed.py --target torch|jax [--quick] [--threads N]

Without ``--threads`` the script runs itself twice, with one thread and with the
library's default, and prints both tables. In each run, on the same float32 parameters
and data, forward + backward of the exported module (torch: ``loss(...).backward()``
through the autograd.Function; jax: ``jax.jit(jax.grad(loss))``, the custom_vjp) is
timed against the framework's own autograd of the same forward (the exported forward
lines, differentiated by autograd / jax.grad) and of an idiomatic forward (torch:
``log_softmax``, ``layer_norm``; jax: ``jax.nn``). The implementations take turns in
blocks within one run, so the ratios see the same machine load. With torch, a
``torch.compile`` of the exported loss is timed too where it compiles on this machine.
"""
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CASES = [  # (label, widths, hidden, output, loss, m, §1b options)
    ("[784,256,256,10] sigmoid/softmax-cce m=128", (784, 256, 256, 10), "sigmoid", "softmax",
     "cce", 128, {}),
    ("[1024,2048,2048,10] relu/softmax-cce m=256", (1024, 2048, 2048, 10), "relu", "softmax",
     "cce", 256, {}),
    ("[784,256,256,256,10] LN-residual tanh/softmax-cce m=128", (784, 256, 256, 256, 10),
     "tanh", "softmax", "cce", 128, dict(norm="layer", residual=True)),
]


def _option(argv, name, default=None):
    return argv[argv.index(name) + 1] if name in argv else default


def setup(case, dtype="float32"):
    """The exported torch/jax module's source net, NumPy parameters, X and Y."""
    import numpy as np

    from derive import Network
    _, widths, hidden, output, loss, m, options = case
    acts = (hidden,) * (len(widths) - 2) + (output,)
    net = Network(activations=acts, loss=loss, bias="explicit", batch=True, widths=widths,
                  **options)
    rng = np.random.default_rng(0)
    params = []
    for l in range(1, len(widths)):
        params.append(rng.normal(size=(widths[l], widths[l - 1])) / np.sqrt(widths[l - 1]))
        params.append(0.1 * rng.normal(size=(widths[l], 1)))
        if options and l < len(widths) - 1:
            params += [1 + 0.1 * rng.normal(size=(widths[l], 1)),
                       0.1 * rng.normal(size=(widths[l], 1))]
    X = rng.normal(size=(widths[0], m))
    Y = np.eye(widths[-1])[:, rng.integers(0, widths[-1], m)]
    return net, acts, [p.astype(dtype) for p in params], X.astype(dtype), Y.astype(dtype)


def torch_funcs(case):
    import torch

    from derive import export
    net, acts, params, X, Y = setup(case)
    g = export(net, target="torch")
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    tX, tY = torch.tensor(X), torch.tensor(Y)
    fns = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}

    def ours():
        g.loss(tp, tX, tY).backward()

    def same_forward():   # autograd of the exported forward lines
        g.module._loss_pass(tX, tY, *tp, *([1e-5] if case[6] else []))[0].backward()

    def idiomatic():
        z, k = tX, 0
        for l in range(1, len(acts)):
            W, b = tp[k], tp[k + 1]
            h = W @ z + b
            if case[6]:
                gamma, beta = tp[k + 2], tp[k + 3]
                h = torch.nn.functional.layer_norm(h.T, (W.shape[0],), gamma[:, 0], beta[:, 0],
                                                   eps=1e-5).T
                k += 2
            a = fns[acts[l - 1]](h)
            z = z + a if case[6] and l >= 2 else a
            k += 2
        J = -(tY * torch.log_softmax(tp[k] @ z + tp[k + 1], dim=0)).sum() / tX.shape[1]
        J.backward()
    funcs = {"exported": ours, "autograd, same forward": same_forward, "autograd, idiomatic": idiomatic}
    try:
        loss = g.loss                # run the generated module before compiling
        compiled = torch.compile(lambda: loss(tp, tX, tY))
        compiled().backward()
        funcs["torch.compile(exported)"] = lambda: compiled().backward()
    except Exception as error:   # noqa: BLE001  (reported, not hidden)
        print(f"  torch.compile: {type(error).__name__}: {str(error).splitlines()[0][:100]}")
    return funcs


def jax_funcs(case):
    import jax
    import jax.numpy as jnp

    from derive import export
    net, acts, params, X, Y = setup(case)
    g = export(net, target="jax")
    jp = [jnp.asarray(p) for p in params]
    jX, jY = jnp.asarray(X), jnp.asarray(Y)
    extra = [1e-5] if case[6] else []
    ours = jax.jit(jax.grad(lambda ps: g.loss(ps, jX, jY)))
    same = jax.jit(jax.grad(lambda ps: g.module._loss_pass(jX, jY, *ps, *extra)[0]))
    fns = {"sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh, "relu": jax.nn.relu}

    def idiomatic_loss(ps):
        z, k = jX, 0
        for l in range(1, len(acts)):
            h = ps[k] @ z + ps[k + 1]
            if case[6]:
                mu = h.mean(axis=0, keepdims=True)
                var = ((h - mu) ** 2).mean(axis=0, keepdims=True)
                h = ps[k + 2] * (h - mu) / jnp.sqrt(var + 1e-5) + ps[k + 3]
                k += 2
            a = fns[acts[l - 1]](h)
            z = z + a if case[6] and l >= 2 else a
            k += 2
        return -(jY * jax.nn.log_softmax(ps[k] @ z + ps[k + 1], axis=0)).sum() / jX.shape[1]
    idiomatic = jax.jit(jax.grad(idiomatic_loss))
    return {name: (lambda f=f: jax.block_until_ready(f(jp))) for name, f in
            (("exported", ours), ("jax.grad, same forward", same), ("jax.grad, idiomatic", idiomatic))}


def run(target, threads, budget):
    from export_speed import fmt, median_times
    if target == "torch":
        import torch
        if threads:
            torch.set_num_threads(threads)
    for case in CASES:
        funcs = (torch_funcs if target == "torch" else jax_funcs)(case)
        medians, repeats = median_times(list(funcs.values()), budget)
        times = dict(zip(funcs, medians))
        base = times["exported"]
        print(f"{case[0]}  [{repeats} repeats, threads: {threads or 'default'}]")
        for name, t in times.items():
            ratio = "" if name == "exported" else f"   exported / this = {base / t:.3f}"
            print(f"  {name:26s} {fmt(t)}{ratio}")
        sys.stdout.flush()


def main(argv):
    target = _option(argv, "--target")
    if target not in ("torch", "jax"):
        sys.exit("--target must be torch or jax")
    budget = 0.5 if "--quick" in argv else 2.0
    threads = _option(argv, "--threads")
    if threads is not None:
        run(target, int(threads), budget)
        return
    print(f"load average before: {os.getloadavg()}")
    for n in ("1", "0"):             # 0: the library's default
        env = dict(os.environ)
        if n == "1":
            env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                       XLA_FLAGS="--xla_cpu_multi_thread_eigen=false "
                                 "intra_op_parallelism_threads=1")
        subprocess.run([sys.executable, os.path.abspath(__file__), *argv, "--threads", n],
                       env=env, check=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    sys.path[:0] = [ROOT, os.path.dirname(os.path.abspath(__file__))]
    main(sys.argv[1:])
