"""Benchmark: a pre-norm transformer (SPEC §1c) derived, certified and exported.

Prints, measured in one run: the derivation of one block and of two blocks at symbolic
sizes (d, d_k, T; four heads, causal; the op rows' proofs trusted from the shipped
record, their one-time check timed on its own line); the certificate of one block at
d = 3, T = 2; and the exported NumPy gradients (`loss_and_gradients`) of one causal
block at d = 256, T = 128, 4 heads against PyTorch's autograd of the same block
(F.layer_norm, scaled_dot_product_attention), as a ratio, at default threads and in a
subprocess at one thread (OMP/OpenBLAS/MKL and torch set to 1).

    python benchmarks/attention.py
"""
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone

import numpy as np  # noqa: E402

from derive import Network, export_numpy  # noqa: E402
from derive.engine.attention import ATTENTION_OPS  # noqa: E402
from derive.engine.graph import backprop_graph  # noqa: E402
from derive.engine.ops import OPS, Shapes  # noqa: E402
from derive.engine.vjp import check  # noqa: E402

try:
    import torch
except ImportError:   # pragma: no cover
    torch = None

SIZES = dict(width=256, tokens=128, heads=4, causal=True)
REPEATS = 5


def timed(work):
    start = time.perf_counter()
    out = work()
    return time.perf_counter() - start, out


def best(work):
    return min(timed(work)[0] for _ in range(REPEATS))


def derivation():
    proofs, _ = timed(lambda: [check(OPS[name], Shapes("explicit", False))
                               for name in ATTENTION_OPS + ("token_loss:mse",)])
    print(f"checking the {len(ATTENTION_OPS) + 1} attention rows' VJP claims (once, shipped "
          f"as a record): {proofs:.2f} s")
    times = {}
    for blocks in (1, 2):
        net = Network.transformer(blocks=blocks, heads=4, causal=True)
        times[blocks], d = timed(lambda net=net: backprop_graph(net))
        print(f"derive {blocks} block(s), 4 heads, causal, symbolic d, d_k, T: "
              f"{times[blocks]:.3f} s ({len(d.cotangents)} cotangents, {len(d.grads)} gradients)")
    print(f"two blocks / one block: {times[2] / times[1]:.2f}x")
    net = Network.transformer(causal=True, width=3, tokens=2, key_width=1, mlp_width=1,
                              outputs=1)
    seconds, cert = timed(lambda: backprop_graph(net).certify())
    print(f"certify one block at d = 3, T = 2 ({cert.checked} entries, ok={cert.ok}): {seconds:.1f} s")


def torch_loss(net, t, X, Y):
    F = torch.nn.functional
    d, Z = net.width, X.T
    for l in range(1, net.blocks_count + 1):
        N = F.layer_norm(Z, (d,), t["gamma_1", l][:, 0], t["beta_1", l][:, 0], eps=1e-5)
        heads = []
        for h in range(1, net.heads + 1):
            u = net.head_slot(l, h)
            Qm, K, V = (N @ t["W_" + n, u].T + t["b_" + n, u][:, 0] for n in "QKV")
            heads.append(F.scaled_dot_product_attention(Qm[None], K[None], V[None],
                                                        is_causal=net.causal)[0])
        W_O = torch.cat([t["W_O", net.head_slot(l, h)] for h in range(1, net.heads + 1)], 1)
        U = Z + torch.cat(heads, 1) @ W_O.T + t["b_O", l][:, 0]
        N = F.layer_norm(U, (d,), t["gamma_2", l][:, 0], t["beta_2", l][:, 0], eps=1e-5)
        Z = U + F.relu(N @ t["W_1", l].T + t["b_1", l][:, 0]) @ t["W_2", l].T + t["b_2", l][:, 0]
    H = Z @ t["W_y", net.depth].T + t["b_y", net.depth][:, 0]
    return 0.5 * ((H - Y.T) ** 2).sum(1).mean()


def export_vs_torch(threads):
    net = Network.transformer(**SIZES)
    g = export_numpy(net)
    rng = np.random.default_rng(0)
    params = [rng.normal(size=s) * 0.05 for s in g.param_shapes]
    X, Y = rng.normal(size=(256, 128)), rng.normal(size=(256, 128))
    ours = best(lambda: g.loss_and_gradients(params, X, Y))
    line = f"exported loss_and_gradients, d 256, T 128, 4 heads, causal, {threads}: {ours * 1e3:.1f} ms"
    if torch is None:
        print(line + " (torch not installed: no ratio)")
        return
    keys = [(name.rsplit("_", 1)[0], int(name.rsplit("_", 1)[1])) for name in g.param_names]
    t = {key: torch.tensor(p, requires_grad=True) for key, p in zip(keys, params)}
    Xt, Yt = torch.tensor(X), torch.tensor(Y)

    def autograd():
        for v in t.values():
            v.grad = None
        torch_loss(net, t, Xt, Yt).backward()

    theirs = best(autograd)
    print(f"{line}; torch autograd {theirs * 1e3:.1f} ms; ours / torch = {ours / theirs:.2f}")


def main():
    if sys.argv[1:] == ["--one-thread"]:
        if torch is not None:
            torch.set_num_threads(1)
        export_vs_torch("one thread")
        return
    derivation()
    export_vs_torch("default threads")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    subprocess.run([sys.executable, __file__, "--one-thread"], env=env, check=True)


if __name__ == "__main__":
    main()
