"""How fast are the recurrent derivations and the exported LSTM gradients? (Not a test:
run it by hand.)

    python benchmarks/recurrence.py [--quick] [--threads N]

Prints, in one run: the time to derive (backprop) a tanh, an LSTM and a GRU network
unrolled over T = 8, 32 and 64 steps and at a symbolic T; then loss and gradients of the
exported LSTM module (n_x = 64, n_h = 128, T = 50, a linear readout of 1 at every step,
half squared error; float64, one sequence per call) against PyTorch's autograd of
``nn.LSTM`` with the same weights and the same readout and loss, as the median time per
call of each and their ratio. The two take turns in blocks, so the ratio sees the same
machine load. ``--threads`` (default 1) sets both libraries' thread count (NumPy's
through the BLAS variables, before it loads).
"""
import os
import sys
import time

from timing import interleaved_medians, option, pin_threads

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
N_X, N_H, STEPS = 64, 128, 50


def derivation_times():
    """[(cell, T, seconds to derive)] in this process."""
    from derive import Network, backprop
    out = []
    for cell in ("tanh", "lstm", "gru"):
        for steps in (8, 32, 64, "T"):
            start = time.perf_counter()
            backprop(Network.rnn(cell, steps=steps))
            out.append((cell, steps, time.perf_counter() - start))
    return out


def lstm_functions():
    """(ours, torch's, export seconds, |ΔJ|, max |Δgrad|): J and every gradient of the
    same LSTM and data."""
    import numpy as np
    import torch

    from derive import Network, export_numpy
    start = time.perf_counter()
    net = Network.rnn("lstm", steps=STEPS, inputs=N_X, hidden=N_H, outputs=1)
    g = export_numpy(net)
    exported = time.perf_counter() - start
    rng = np.random.default_rng(0)
    params = {k: rng.uniform(-1, 1, s) / np.sqrt(N_H) for k, s in
              zip(net.parameters, g.param_shapes)}
    X, Y = rng.normal(size=(N_X, STEPS)), rng.normal(size=(1, STEPS))
    order = [params[k] for k in net.parameters]
    lstm = torch.nn.LSTM(N_X, N_H).double()
    with torch.no_grad():                       # PyTorch's gate order: i, f, g, o
        lstm.weight_hh_l0.copy_(torch.tensor(np.vstack([params["W_" + k] for k in "ifgo"])))
        lstm.weight_ih_l0.copy_(torch.tensor(np.vstack([params["U_" + k] for k in "ifgo"])))
        lstm.bias_ih_l0.copy_(torch.tensor(np.vstack([params["b_" + k] for k in "ifgo"])[:, 0]))
        lstm.bias_hh_l0.zero_()
    V = torch.tensor(params["V"], requires_grad=True)
    c = torch.tensor(params["cy"][:, 0], requires_grad=True)
    tX, tY = torch.tensor(X.T), torch.tensor(Y.T)

    def ours():
        return g.loss_and_gradients(order, X, Y)

    def theirs():
        for p in (*lstm.parameters(), V, c):
            p.grad = None
        out, _ = lstm(tX)
        J = 0.5 * ((out @ V.T + c - tY) ** 2).sum()
        J.backward()
        return J

    J_ours, grads = ours()
    J_theirs = theirs()
    mine = dict(zip(net.parameters, grads))
    rows = {k: slice(n * N_H, (n + 1) * N_H) for n, k in enumerate("ifgo")}
    pairs = [(mine["V"], V.grad), (mine["cy"][:, 0], c.grad)]
    for k, rows_k in rows.items():
        pairs += [(mine["W_" + k], lstm.weight_hh_l0.grad[rows_k]),
                  (mine["U_" + k], lstm.weight_ih_l0.grad[rows_k]),
                  (mine["b_" + k][:, 0], lstm.bias_ih_l0.grad[rows_k])]
    worst = max(float(np.abs(a - b.numpy()).max()) for a, b in pairs)
    return ours, theirs, exported, abs(float(J_ours) - J_theirs.item()), worst


def main(argv):
    threads = option(argv, "--threads", "1")
    pin_threads(threads)
    sys.path.insert(0, ROOT)
    quick = "--quick" in argv
    for cell, steps, seconds in derivation_times():
        print(f"derive rnn {cell} T = {steps}: {seconds:.2f} s")
    ours, theirs, exported, dJ, worst = lstm_functions()
    print(f"LSTM n_x {N_X} n_h {N_H} T {STEPS} (threads {threads}): export {exported:.2f} s, "
          f"|J - J_torch| = {dJ:.1e}, max |grad - grad_torch| = {worst:.1e}")
    blocks, repeat = (3, 3) if quick else (5, 10)
    mine, torch_ = interleaved_medians(ours, theirs, blocks, repeat)
    print(f"  exported NumPy loss_and_gradients {mine * 1e3:.2f} ms, torch nn.LSTM autograd "
          f"{torch_ * 1e3:.2f} ms, ratio {mine / torch_:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
