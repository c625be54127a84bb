"""Benchmark: `verify` on a hidden-layer claim at depth 6 against SymPy's plain route.

Ours: ``verify`` of the correct closed form of ∂J/∂W_1 (every δ written out) for a
sigmoid/bce network of depth 6 — shape check, 50-digit check at random rational
points and exact cancellation where it is cheap. Target: under 2 s.
Batch: a symbolic-depth batch claim (checked at L = 1 … 6, two batch sizes each), one
that holds and one off by 1/2 for 1/m (its hint verified over every instance too).
Every timing is of a cold check: the kept instances and derivations are cleared first.
Plain SymPy: the same claim at widths 2, the loss written out with the real sigmoid
1/(1 + e^{-h}), ``simplify(diff(J, w) - claim)`` for the first entry of W_1, in a
subprocess killed at 60 s.

    python benchmarks/verify_speed.py
"""
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a clone

DEPTH = 6
LIMIT = 60.0

PLAIN = r"""
import sys, time
from sympy import diff, simplify
from derive import Network, backprop
from derive.claims.network_build import build
from derive.claims.grammar import parse
from derive.engine.instance import Instance
from derive.ir.activations import realize
D = int(sys.argv[1]); claim = sys.argv[2]
net = Network.uniform(depth=D, activation="sigmoid", loss="bce", widths=(2,) * (D + 1))
inst = Instance(net, net.widths)
expr = build(parse(claim), net)[0]
claimed = realize(inst.evaluate(expr)[0, 0])
loss = realize(inst.loss)
w = inst.env[("W", 1)][0, 0]
t = time.perf_counter()
result = simplify(diff(loss, w) - claimed)
print(time.perf_counter() - t, result == 0)
"""


def claim_for(depth):
    from derive import Network, backprop
    from derive.printing.claim_text import to_claim

    d = backprop(Network.uniform(depth=depth, activation="sigmoid", loss="bce"))
    return to_claim(d.expanded("W", 1))


def cold():
    """Clear what verify keeps between calls, so a repeat is timed from scratch."""
    from derive.claims.instances import clear_caches

    clear_caches()


def cold_min(check, holds, repeats):
    """The fastest of ``repeats`` cold runs of ``check()`` (a verdict that must have
    ``holds``), the kept instances and derivations cleared before each."""
    times = []
    for _ in range(repeats):
        cold()
        start = time.perf_counter()
        verdict = check()
        times.append(time.perf_counter() - start)
        assert verdict.holds == holds, verdict.reason
    return min(times)


def ours(claim, repeats=3):
    from derive import Network, verify

    net = Network.uniform(depth=DEPTH, activation="sigmoid", loss="bce")
    return cold_min(lambda: verify(net, "W_1", claim), True, repeats)


def ours_symbolic(repeats=3):
    """verify of the hidden-layer claim for a symbolic depth (checked at L = 2 … 6)."""
    from derive import Network, verify

    net = Network.uniform(depth="L", activation="sigmoid", loss="bce")
    claim = "((W_L^T (z_L - y)) ⊙ σ'(h_{L-1})) z_{L-2}^T"
    return cold_min(lambda: verify(net, "W_{L-1}", claim), True, repeats)


def ours_batch(claim, holds, repeats=2):
    """verify of a last-layer claim of a batch network of symbolic depth."""
    from derive import Network, verify

    net = Network.uniform(depth="L", activation="sigmoid", loss="bce", batch=True)
    return cold_min(lambda: verify(net, "W_L", claim), holds, repeats)


def plain(claim):
    try:
        out = subprocess.run([sys.executable, "-c", PLAIN, str(DEPTH), claim], cwd=ROOT,
                             capture_output=True, text=True, timeout=LIMIT,
                             env={"PYTHONPATH": str(ROOT), "PATH": ""})
    except subprocess.TimeoutExpired:
        return None
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1])
    return float(out.stdout.split()[0])


def catalogue_large(repeats=1):
    """A user's 1000×1000 shape: checked for consistency, never expanded."""
    from derive import matrix_derivative, verify_identity

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matrix_derivative("y^T A x", "A", {"A": (1000, 1000)}).certify()
        verify_identity("d/dA (y^T A x)", "y x^T", {"A": (1000, 1000)})
        times.append(time.perf_counter() - start)
    return times[0]          # the first call: later ones hit the derivation caches


def main():
    claim = claim_for(DEPTH)
    print(f"claim (∂J/∂W_1, depth {DEPTH}): {claim}")
    t_ours = ours(claim)
    print(f"verify depth L (W_{{L-1}}, checked at L = 2 … 6): {ours_symbolic():.2f} s")
    for text, holds in (("1/m (z_L - y) z_{L-1}^T", True), ("1/2 (z_L - y) z_{L-1}^T", False)):
        print(f"verify batch depth L (W_L = {text}, {'holds' if holds else 'hint'}; "
              f"L = 1 … 6, two m each): {ours_batch(text, holds):.2f} s")
    print(f"catalogue: derive + certify + verify d/dA (y^T A x) at A 1000×1000: "
          f"{catalogue_large():.2f} s (target < 2 s)")
    t_plain = plain(claim)
    if t_plain is None:
        print(f"verify depth {DEPTH}: {t_ours:.2f} s; sympy simplify: >{LIMIT:.0f} s "
              f"(timed out); ratio > {LIMIT / t_ours:.0f}x")
    else:
        print(f"verify depth {DEPTH}: {t_ours:.2f} s; sympy simplify: {t_plain:.2f} s; "
              f"ratio {t_plain / t_ours:.1f}x")


if __name__ == "__main__":
    main()
