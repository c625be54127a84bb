"""Benchmark: backprop cost against depth, and the naive route.

Ours: `backprop` for a sigmoid/bce network of depth 8, 32 and 64 (fresh template cache
each time, so the figure includes deriving the layer templates; each op row's VJP claim is
checked once per process, and that one-time cost is printed on its own line), and the
same with
``norm="layer", residual=True`` (the blocks walked op by op, their VJPs checked).
Naive: build the fully expanded loss at widths 2 and let SymPy differentiate it with
respect to every weight (the route the engine avoids), in a subprocess killed at 60 s.

    python benchmarks/derive_depth.py
"""
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone

DEPTHS = (8, 32, 64)
LIMIT = 60.0

NAIVE = r"""
import sys, time
from sympy import Matrix, Symbol, exp, log, diff
D = int(sys.argv[1]); w = 2
z = Matrix(w, 1, lambda r, c: Symbol(f"x{r}", real=True))
weights = []
for l in range(1, D + 1):
    W = Matrix(w, w, lambda r, c: Symbol(f"W{l}_{r}_{c}", real=True))
    weights += list(W)
    z = (W * z).applyfunc(lambda h: 1 / (1 + exp(-h)))
y = [Symbol(f"y{r}", real=True) for r in range(w)]
J = sum(-(y[r] * log(z[r]) + (1 - y[r]) * log(1 - z[r])) for r in range(w))
t = time.perf_counter()
grads = [diff(J, v) for v in weights]
print(time.perf_counter() - t)
"""


def ours(depth, repeats=3, **options):
    from derive import Network, backprop
    from derive.engine.blocks import templates

    times = []
    for _ in range(repeats):
        templates.cache_clear()
        start = time.perf_counter()
        backprop(Network.uniform(depth=depth, activation="sigmoid", loss="bce", **options))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def render_time(depth, repeats=3):
    """The median time of rendering a derived depth-``depth`` network as LaTeX."""
    from derive import Network, backprop, render

    d = backprop(Network.uniform(depth=depth, activation="sigmoid", loss="bce"))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        render(d, "latex")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def first_check(**options):
    """The time of the first derivation in a fresh process minus a repeat's: the op rows'
    VJP checks, which run once per process."""
    code = ("import time, sys; sys.path.insert(0, %r); from derive import Network, backprop; "
            "from derive.engine.blocks import templates; "
            "net = Network.uniform(depth=8, activation='sigmoid', "
            "loss='bce', **%r); t = time.perf_counter(); backprop(net); a = "
            "time.perf_counter() - t; templates.cache_clear(); "
            "t = time.perf_counter(); backprop(net); print(a - (time.perf_counter() - t))"
            % (str(Path(__file__).resolve().parent.parent), options))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return float(run.stdout.strip())


def naive(depth):
    try:
        run = subprocess.run([sys.executable, "-c", NAIVE, str(depth)], capture_output=True,
                             text=True, timeout=LIMIT)
        return float(run.stdout.strip())
    except subprocess.TimeoutExpired:
        return None


def main():
    results = {d: ours(d) for d in DEPTHS}
    for d in DEPTHS:
        n = naive(d)
        naive_text = f"{n:.2f} s" if n is not None else f">{LIMIT:.0f} s (timed out)"
        ratio = f"{n / results[d]:.1f}x" if n is not None else f">{LIMIT / results[d]:.0f}x"
        print(f"depth {d:3d}: backprop {results[d]:.3f} s; naive SymPy diff of the expanded "
              f"loss (widths 2) {naive_text}; naive/ours {ratio}")
    print(f"time(64)/time(8) = {results[64] / results[8]:.2f} (target <= 10); "
          f"depth 64 in {results[64]:.3f} s (target < 1 s)")
    print(f"render(latex) at depth 64: {render_time(64):.3f} s (target < 1 s)")
    kinds = {d: ours(d, norm="layer", residual=True) for d in DEPTHS}
    print(f"checking the VJP claims of the ops once per process: plain sigmoid/bce "
          f"{first_check():.3f} s; with norm='layer', residual=True "
          f"{first_check(norm='layer', residual=True):.3f} s")
    for d in DEPTHS:
        print(f"depth {d:3d}, norm='layer', residual=True: backprop {kinds[d]:.3f} s")
    print(f"with norm and residual: time(64)/time(8) = {kinds[64] / kinds[8]:.2f} "
          f"(target <= 10); depth 64 in {kinds[64]:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
