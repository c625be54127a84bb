"""Benchmark: deriving a pre-norm transformer (SPEC §1c) on the generic engine.

Prints, measured in one run: the derivation of one block and of two blocks at symbolic
sizes (d, d_k, T; four heads, causal), the op rows' proofs trusted from the shipped record
(their one-time check is timed on its own line), and the certificate of one block at
d = 3, T = 2 (every trained entry against SymPy's derivative of the expanded loss), as a
ratio to the two-block derivation. The exported gradients against PyTorch's autograd are
not measured: the transformer has no NumPy export yet.

    python benchmarks/attention.py
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone

from derive import Network  # noqa: E402
from derive.engine.attention import ATTENTION_OPS  # noqa: E402
from derive.engine.graph import backprop_graph  # noqa: E402
from derive.engine.ops import OPS, Shapes  # noqa: E402
from derive.engine.vjp import check  # noqa: E402


def timed(work):
    start = time.perf_counter()
    out = work()
    return time.perf_counter() - start, out


def main():
    proofs, _ = timed(lambda: [check(OPS[name], Shapes("explicit", False))
                               for name in ATTENTION_OPS + ("token_loss:mse",)])
    print(f"checking the {len(ATTENTION_OPS) + 1} attention rows' VJP claims (once, shipped "
          f"as a record): {proofs:.2f} s")
    times = {}
    for blocks in (1, 2):
        net = Network.transformer(blocks=blocks, heads=4, causal=True)
        times[blocks], d = timed(lambda net=net: backprop_graph(net))
        print(f"derive {blocks} block(s), 4 heads, causal, symbolic d, d_k, T: "
              f"{times[blocks]:.3f} s, {len(d.cotangents)} cotangents, {len(d.grads)} gradients")
    print(f"two blocks / one block: {times[2] / times[1]:.2f}x")
    net = Network.transformer(blocks=1, heads=1, causal=True, width=3, tokens=2, key_width=1,
                              mlp_width=1, outputs=1)
    seconds, cert = timed(lambda: backprop_graph(net).certify())
    print(f"certify one block at d = 3, T = 2 ({cert.checked} entries, ok={cert.ok}): "
          f"{seconds:.1f} s = {seconds / times[2]:.0f}x the two-block derivation")


if __name__ == "__main__":
    main()
