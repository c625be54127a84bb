"""How fast are the convolutional derivations and the exported conv2d gradients? (Not a
test: run it by hand.)

    python benchmarks/conv.py [--quick] [--threads N]

Prints, in one run: the time to derive (backprop, call by call) and to export (the
NumPy module's source) a conv1d and a conv2d network; then loss and gradients of the
exported conv2d module (8 channels, 28×28, kernel 3, max pooling 2, a dense head of 10,
softmax and cross-entropy; float64, one image per call) against PyTorch's autograd of the
same forward (``F.conv2d``, ``F.max_pool2d``, ``torch.flatten``, a linear head,
``log_softmax``), as the median time per call of each and their ratio. The two take
turns in blocks, so the ratio sees the same machine load. ``--threads`` (default 1) sets
both libraries' thread count (NumPy's through the BLAS variables, before it loads).
"""
import os
import sys
import time

from timing import interleaved_medians, option, pin_threads

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def derivation_times():
    """[(label, seconds to derive, seconds to export)] in this (cold) process."""
    from derive import Network, backprop, export_numpy
    nets = [("conv1d channels 1,4,8 length 32 kernel 3 max pool", Network.conv1d(
                channels=(1, 4, 8), kernel=3, pool="max", length=32, head_widths=(10,))),
            ("conv2d channels 1,8 size 28x28 kernel 3 max pool", Network.conv2d(
                channels=(1, 8), kernel=3, pool="max", size=(28, 28), head_widths=(10,)))]
    out = []
    for label, net in nets:
        start = time.perf_counter()
        backprop(net)
        derived = time.perf_counter() - start
        start = time.perf_counter()
        export_numpy(net)
        out.append((label, derived, time.perf_counter() - start))
    return out


def conv2d_functions():
    """(ours, torch's): each computes J and every gradient of the same network and data."""
    import numpy as np
    import torch

    from derive import Network, export_numpy
    net = Network.conv2d(channels=(1, 8), kernel=3, pool="max", size=(28, 28),
                         head_widths=(10,))
    g = export_numpy(net)
    rng = np.random.default_rng(0)
    params = [rng.normal(size=s) / np.sqrt(np.prod(s[1:])) for s in g.param_shapes]
    X = rng.normal(size=(1, 28, 28))
    Y = np.eye(10)[:, [3]]
    F = torch.nn.functional
    t = [torch.tensor(p, requires_grad=True) for p in params]
    tX, tY = torch.tensor(X)[None], torch.tensor(Y)

    def ours():
        return g.loss_and_gradients(params, X, Y)

    def theirs():
        for p in t:
            p.grad = None
        Z = F.max_pool2d(F.relu(F.conv2d(tX, t[0], t[1][:, 0])), 2)
        h = t[2] @ torch.flatten(Z[0])[:, None] + t[3]
        J = -(tY * F.log_softmax(h, dim=0)).sum()
        J.backward()
        return J

    J_ours, grads = ours()
    J_theirs = theirs()
    worst = max(float(np.abs(d - p.grad.numpy()).max()) for d, p in zip(grads, t))
    return ours, theirs, abs(float(J_ours) - J_theirs.item()), worst


def main(argv):
    threads = option(argv, "--threads", "1")
    pin_threads(threads)
    sys.path.insert(0, ROOT)
    quick = "--quick" in argv
    for label, derived, exported in derivation_times():
        print(f"{label}: derive {derived:.2f} s, export {exported:.2f} s")
    ours, theirs, dJ, worst = conv2d_functions()
    print(f"conv2d 8 channels 28x28 kernel 3 (threads {threads}): |J - J_torch| = {dJ:.1e}, "
          f"max |grad - grad_torch| = {worst:.1e}")
    blocks, repeat = (3, 5) if quick else (10, 20)
    mine, torch_ = interleaved_medians(ours, theirs, blocks, repeat)
    print(f"  exported NumPy loss_and_gradients {mine * 1e3:.3f} ms, torch autograd "
          f"{torch_ * 1e3:.3f} ms, ratio {mine / torch_:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
