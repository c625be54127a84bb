"""The oracles of the recurrence tests (tests/test_recurrence*.py): a NumPy forward of
SPEC §1c's cells, random points, central differences, PyTorch's nn.RNN / nn.LSTM / nn.GRU
with the same weights, and one derivation per network shared by the test files."""
from functools import lru_cache

import numpy as np

from derive import Network, backprop
from derive.engine.ops import Shapes
from derive.ir.quantities import GATES, Q

try:
    import torch
except ImportError:   # pragma: no cover
    torch = None


SIZES = dict(inputs=2, hidden=3, outputs=2)
SHAPES = Shapes("none", False)   # the symbolic sizes the rows are proved at
RNG = np.random.default_rng(7)

@lru_cache(maxsize=None)
def derivation(cell, readout="every", steps=3, output="identity", loss="mse", sizes=None):
    """The derivation of one network (``sizes``: (inputs, hidden, outputs), SIZES by default),
    derived once per process."""
    widths = dict(zip(("inputs", "hidden", "outputs"), sizes)) if sizes else SIZES
    return backprop(Network.rnn(cell, steps=steps, readout=readout, output=output, loss=loss,
                                **widths))


def shape_of(net):
    """kind -> its concrete shape in ``net`` (a shared weight's, at "layer" 1)."""
    sizes = net.size_values()
    return lambda kind: tuple(int(v.xreplace(sizes)) for v in Q(kind, 1).var(SHAPES).shape)



# --- the oracle: a NumPy forward of SPEC §1c ------------------------------------------
def sigmoid(v):
    return 1 / (1 + np.exp(-v))


OUTPUTS = {"identity": lambda s: s, "sigmoid": sigmoid,
           "softmax": lambda s: np.exp(s - s.max()) / np.exp(s - s.max()).sum()}
LOSSES = {"mse": lambda p, y: 0.5 * ((p - y) ** 2).sum(),
          "bce": lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum(),
          "cce": lambda p, y: -(y * np.log(p)).sum()}


def step(cell, P, x, h, c):
    """One step of SPEC §1c's cell: (h_t, c_t)."""
    def pre(g):
        return P["W_" + g] @ h + P["U_" + g] @ x + P["b_" + g]
    if cell == "tanh":
        return np.tanh(P["Wh"] @ h + P["Uh"] @ x + P["bh"]), c
    if cell == "lstm":
        i, f, o, g = sigmoid(pre("i")), sigmoid(pre("f")), sigmoid(pre("o")), np.tanh(pre("g"))
        c = f * c + i * g
        return o * np.tanh(c), c
    r, u = sigmoid(pre("r")), sigmoid(pre("u"))
    n = np.tanh(P["U_n"] @ x + P["b_n"] + r * (P["W_n"] @ h + P["c_n"]))
    return (1 - u) * n + u * h, c


def forward_loss(net, P, X, Y):
    """J of SPEC §1c: h_0 = c_0 = 0, the readout ŷ_t = σ_out(V h_t + c), the loss summed
    over t (``every``) or at t = T (``last``)."""
    h = np.zeros((net.hidden, 1))
    c = np.zeros((net.hidden, 1))
    J = 0.0
    for t in range(net.steps):
        h, c = step(net.cell, P, X[t], h, c)
        if net.readout == "every" or t == net.steps - 1:
            J += LOSSES[net.loss](OUTPUTS[net.output](P["V"] @ h + P["cy"]), Y[t])
    return J


def point(net, scale=0.6):
    """Random weights (every parameter kind at its shape), inputs and targets."""
    P = {k: RNG.uniform(-scale, scale, shape_of(net)(k)) for k in net.parameters}
    X = [RNG.uniform(-1, 1, (net.inputs, 1)) for _ in range(net.steps)]
    if net.loss == "mse":
        Y = [RNG.uniform(-1, 1, (net.outputs, 1)) for _ in range(net.steps)]
    else:   # a probability vector (cce) or probabilities (bce)
        Y = [RNG.dirichlet(np.ones(net.outputs)).reshape(-1, 1) for _ in range(net.steps)]
    return P, X, Y


def leaf_values(net, P, X, Y):
    """The leaves as `GraphDerivation.values` takes them: {(kind, layer): array}."""
    values = {(k, 1): v for k, v in P.items()}
    values.update({("xt", t + 1): X[t] for t in range(net.steps)})
    values.update({("yt", t + 1): Y[t] for t in range(net.steps)})
    values.update({(q.kind, 0): np.zeros((net.hidden, 1)) for q in net.initial_state()})
    return {key: v.tolist() for key, v in values.items()}


def as_arrays(env):
    return {key: np.array(M.tolist(), dtype=float) for key, M in env.items()}


def finite_differences(net, P, X, Y, eps=1e-6):
    out = {}
    for k, W in P.items():
        G = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            old = W[idx]
            W[idx] = old + eps
            up = forward_loss(net, P, X, Y)
            W[idx] = old - eps
            down = forward_loss(net, P, X, Y)
            W[idx] = old
            G[idx] = (up - down) / (2 * eps)
        out[k] = G
    return out


#: every cell with every readout, each with an output/loss pair (pairwise)
NUMERIC = [("tanh", "every", "identity", "mse"), ("tanh", "last", "softmax", "cce"),
           ("lstm", "every", "sigmoid", "bce"), ("lstm", "last", "identity", "mse"),
           ("gru", "every", "softmax", "cce"), ("gru", "last", "identity", "mse")]



# --- PyTorch's autograd with the same weights ------------------------------------------
def torch_module(net, P):
    n_x, n_h = net.inputs, net.hidden
    kind = {"tanh": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[net.cell]
    module = kind(n_x, n_h).double()
    gates = ["h"] if net.cell == "tanh" else list(GATES[net.cell])
    if net.cell == "lstm":
        gates = ["i", "f", "g", "o"]          # PyTorch's order
    W = [P["Wh" if g == "h" else "W_" + g] for g in gates]
    U = [P["Uh" if g == "h" else "U_" + g] for g in gates]
    b = [P["bh" if g == "h" else "b_" + g] for g in gates]
    hidden_bias = [np.zeros((n_h, 1))] * len(gates)
    if net.cell == "gru":
        hidden_bias[2] = P["c_n"]
    with torch.no_grad():
        module.weight_hh_l0.copy_(torch.tensor(np.vstack(W)))
        module.weight_ih_l0.copy_(torch.tensor(np.vstack(U)))
        module.bias_ih_l0.copy_(torch.tensor(np.vstack(b)[:, 0]))
        module.bias_hh_l0.copy_(torch.tensor(np.vstack(hidden_bias)[:, 0]))
    return module, gates


def torch_gradients(net, P, X, Y):
    module, gates = torch_module(net, P)
    V = torch.tensor(P["V"], requires_grad=True)
    c = torch.tensor(P["cy"][:, 0], requires_grad=True)
    out, _ = module(torch.tensor(np.hstack(X).T))          # (T, n_h), h_0 = 0
    s = out @ V.T + c
    yhat = {"identity": lambda v: v, "sigmoid": torch.sigmoid,
            "softmax": lambda v: torch.softmax(v, dim=1)}[net.output](s)
    target = torch.tensor(np.hstack(Y).T)
    terms = {"mse": 0.5 * (yhat - target) ** 2, "cce": -target * torch.log(yhat),
             "bce": -(target * torch.log(yhat) + (1 - target) * torch.log(1 - yhat))}[net.loss]
    J = terms.sum() if net.readout == "every" else terms[-1].sum()
    J.backward()
    n_h = net.hidden
    out = {"V": V.grad.numpy(), "cy": c.grad.numpy()[:, None]}
    for m, (Wk, Uk, bk) in enumerate(("Wh", "Uh", "bh") if g == "h" else
                                     ("W_" + g, "U_" + g, "b_" + g) for g in gates):
        rows = slice(m * n_h, (m + 1) * n_h)
        out[Wk] = module.weight_hh_l0.grad[rows].numpy()
        out[Uk] = module.weight_ih_l0.grad[rows].numpy()
        out[bk] = module.bias_ih_l0.grad[rows].numpy()[:, None]
    if net.cell == "gru":
        out["c_n"] = module.bias_hh_l0.grad[2 * n_h:].numpy()[:, None]
    return out

