"""A recurrent network (SPEC §1c `Network.rnn`), validated, as blocks of calls.

One block per time step t = 1 … T, unrolled: the cell reads the shared weights (ONE
quantity each, at "layer" 1, read at every step, so the walker sums their gradient over
t), the previous state h_{t-1} (and the LSTM's c_{t-1}) and the input x_t; the "layer"
slot of every per-step quantity is its time step t, and h_0 (c_0) at t = 0 is the initial
state (zero in SPEC §1c; the certificate takes it random, which proves more). The cells,
PyTorch's with one bias per gate::

    tanh:  a_t = W h_{t-1} + U x_t + b,  h_t = tanh(a_t)
    lstm:  a_•t = W_• h_{t-1} + U_• x_t + b_• (• = i, f, g, o),  i_t = σ(a_it), f_t, o_t alike,
           g_t = tanh(a_gt),  c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t,  k_t = tanh(c_t),  h_t = o_t ⊙ k_t
    gru:   r_t, u_t as the LSTM's gates,  m_t = W_n h_{t-1} + c_n,  q_t = r_t ⊙ m_t,
           a_nt = U_n x_t + b_n + q_t,  n_t = tanh(a_nt),  h_t = (1 − u_t) ⊙ n_t + u_t ⊙ h_{t-1}

The readout s_t = V h_t + c, ŷ_t = σ_out(s_t) and the loss ℓ_t = ℓ(ŷ_t, y_t) at every step
(``readout="every"``: J_1 = ℓ_1, J_t = J_{t-1} + ℓ_t) or at t = T only (``"last"``). The
loss J is J_T (``depth`` = T). One sequence per call; the widths are concrete; ``steps``
is a number or "T" (symbolic: `derive.engine.through_time` derives the steps T and T − 1
and the general step t).

>>> net = RNNNetwork("tanh", steps=2, inputs=1, hidden=2, outputs=1)
>>> [call.op for call in net.blocks[1]]
['recurrent', 'tanh', 'dense_bias', 'identity', 'loss:mse', 'loss_add']
>>> net.parameters
('Wh', 'Uh', 'bh', 'V', 'cy')
"""
from dataclasses import dataclass

from sympy import Integer, Symbol

from ..errors import SpecError, shown
from ..ir.calls import OpCall
from ..ir.quantities import GATES, KINDS, N_H, N_X, N_Y, Q
from ..vocab import WIDTH
from . import rules
from .of_calls import OfCalls

CELLS = ("tanh", "lstm", "gru")
READOUTS = ("every", "last")
MAX_SIZE = 4096     # inputs, hidden and output widths are at most this
MAX_STEPS = 256     # the number of steps T, unrolled
STEPS = Symbol("T", integer=True, positive=True)    # a symbolic number of steps
STEP = Symbol("t", integer=True, positive=True)     # a general step, 1 ≤ t < T


def _positive(value, what, top):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise SpecError(f"{what} must be an integer from 1 to {top}, got {shown(value)}")
    return value


def _one_of(value, what, allowed):
    if not isinstance(value, str) or value not in allowed:
        raise SpecError(f"{what} must be one of {', '.join(allowed)}, got {shown(value)}")
    return value


@dataclass(frozen=True)
class RNNNetwork(OfCalls):
    """A validated recurrent network (module docstring)."""

    cell: str = "tanh"
    steps: object = "T"
    inputs: int = 2
    hidden: int = 3
    outputs: int = 1
    readout: str = "every"
    output: str = "identity"
    loss: str = "mse"

    arch = "rnn"

    def __post_init__(self):
        _one_of(self.cell, "cell", CELLS)
        _one_of(self.readout, "readout", READOUTS)
        if self.steps != "T":
            if isinstance(self.steps, str):
                raise SpecError(f"steps must be 'T' (symbolic) or an integer from 1 to "
                                f"{MAX_STEPS}, got {shown(self.steps)}")
            _positive(self.steps, "steps", MAX_STEPS)
        for name in ("inputs", "hidden", "outputs"):
            _positive(getattr(self, name), name, MAX_SIZE)
        rules.check_output(self.output, self.loss)

    def describe(self):
        return (f"rnn; {self.cell} cell; {self.steps} steps; inputs {self.inputs}; hidden "
                f"{self.hidden}; outputs {self.outputs}; readout {self.readout}; {self.output}; "
                f"loss {self.loss}")

    @property
    def symbolic(self):
        """Whether the number of steps is the symbol T."""
        return self.steps == "T"

    @property
    def depth(self):
        """The layer of the loss J: the last step T (the Symbol T when symbolic)."""
        return STEPS if self.symbolic else self.steps

    L = depth

    @property
    def parameters(self):
        """The kinds of the shared weights: the cell's (gate by gate, the GRU's c_n last),
        then the readout's V and c."""
        names = [name for name, row in KINDS.items() if row.trained
                 and row.where == "shared" and row.exists(self, 1, self.depth)]
        return tuple(sorted(names, key=lambda name: (KINDS[name].needs == "", name == "c_n")))

    def size_values(self):
        """{size symbol: Integer}: n_x, n_h, n_y."""
        return {WIDTH[N_X]: Integer(self.inputs), WIDTH[N_H]: Integer(self.hidden),
                WIDTH[N_Y]: Integer(self.outputs)}

    def pre_activation(self, t):
        """The quantity δ_t is the cotangent of: a_t for the tanh cell, h_t for a gated one."""
        return Q("at" if self.cell == "tanh" else "ht", t)

    def initial_state(self):
        """The leaves at t = 0: h_0 (and the LSTM's c_0)."""
        return (Q("ht", 0),) + ((Q("ct", 0),) if self.cell == "lstm" else ())

    @property
    def blocks(self):
        """One tuple of calls per step, t = 1 first (a concrete T only)."""
        if self.symbolic:
            raise SpecError("a network of T symbolic steps has no unrolled blocks; "
                            "give steps a number")
        T = self.steps
        return tuple(step_calls(self, t, self.readout == "every" or t == T,
                                self.readout == "last" or t == 1) for t in range(1, T + 1))


def _gate(g, t, activation):
    """a_•t = W_• h_{t-1} + U_• x_t + b_•, then the gate's activation."""
    return (OpCall("recurrent", {"W": Q("W_" + g, 1), "h": Q("ht", t - 1), "U": Q("U_" + g, 1),
                                 "x": Q("xt", t), "b": Q("b_" + g, 1)}, Q("a_" + g, t)),
            OpCall(activation, {"x": Q("a_" + g, t)}, Q("g" + g, t)))


def tanh_calls(t):
    return (OpCall("recurrent", {"W": Q("Wh", 1), "h": Q("ht", t - 1), "U": Q("Uh", 1),
                                 "x": Q("xt", t), "b": Q("bh", 1)}, Q("at", t)),
            OpCall("tanh", {"x": Q("at", t)}, Q("ht", t)))


def lstm_calls(t):
    gates = tuple(c for g, act in GATES["lstm"].items() for c in _gate(g, t, act))
    return gates + (
        OpCall("gated_sum", {"f": Q("gf", t), "c": Q("ct", t - 1), "i": Q("gi", t),
                             "g": Q("gg", t)}, Q("ct", t)),
        OpCall("tanh", {"x": Q("ct", t)}, Q("kt", t)),
        OpCall("hadamard", {"p": Q("go", t), "q": Q("kt", t)}, Q("ht", t)))


def gru_calls(t):
    gates = _gate("r", t, "sigmoid") + _gate("u", t, "sigmoid")
    return gates + (
        OpCall("dense_bias", {"W": Q("W_n", 1), "x": Q("ht", t - 1), "b": Q("c_n", 1)},
               Q("mt", t)),
        OpCall("hadamard", {"p": Q("gr", t), "q": Q("mt", t)}, Q("qt", t)),
        OpCall("affine_plus", {"U": Q("U_n", 1), "x": Q("xt", t), "b": Q("b_n", 1),
                               "v": Q("qt", t)}, Q("a_n", t)),
        OpCall("tanh", {"x": Q("a_n", t)}, Q("gn", t)),
        OpCall("interpolate", {"u": Q("gu", t), "n": Q("gn", t), "h": Q("ht", t - 1)},
               Q("ht", t)))


#: the calls of one step of each cell
CELL_CALLS = {"tanh": tanh_calls, "lstm": lstm_calls, "gru": gru_calls}


def step_calls(net, t, read, first):
    """The calls of step t: the cell's, then with ``read`` the readout s_t = V h_t + c,
    ŷ_t = σ_out(s_t) and the loss, J_t = ℓ_t (``first``: the first step read out) or
    J_t = J_{t-1} + ℓ_t."""
    calls = CELL_CALLS[net.cell](t)
    if not read:
        return calls
    calls += (OpCall("dense_bias", {"W": Q("V", 1), "x": Q("ht", t), "b": Q("cy", 1)},
                     Q("st", t)),
              OpCall(net.output, {"x": Q("st", t)}, Q("yh", t)),
              OpCall("loss:" + net.loss, {"x": Q("yh", t), "t": Q("yt", t)},
                     Q("J" if first else "lt", t)))
    if not first:
        calls += (OpCall("loss_add", {"s": Q("J", t - 1), "e": Q("lt", t)}, Q("J", t)),)
    return calls
