"""The quantity rows of a recurrent network (SPEC §1c, `Network.rnn`): part of the
quantity table (`derive.ir.quantities` reads `RECURRENT_ROWS`)."""
from dataclasses import replace

from sympy import Symbol

from .kind import Kind

# --- a recurrent network (SPEC §1c, Network.rnn) ---------------------------------------
# The "layer" slot of Q is the time step t (h_0, c_0 at t = 0 are the initial state); the
# shared weights, read at every step, are ONE quantity at "layer" 1. Sizes n_x, n_h, n_y
# are the widths n[x], n[h], n[y]. A gate's weights are kinds of their own: W_i, U_i, b_i.
N_X, N_H, N_Y = (Symbol(name) for name in ("x", "h", "y"))
#: the gates of each gated cell, and the activation of each gate
GATES = {"lstm": {"i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid"},
         "gru": {"r": "sigmoid", "u": "sigmoid", "n": "tanh"}}


def _hh(s, l):                      # a recurrent weight: n_h × n_h
    return s.n(N_H), s.n(N_H)


def _hx(s, l):                      # an input weight: n_h × n_x
    return s.n(N_H), s.n(N_X)


def _yh(s, l):                      # the readout's weight: n_y × n_h
    return s.n(N_Y), s.n(N_H)


def _nh(s, l):                      # a hidden-sized column: n_h × 1
    return s.n(N_H), 1


def _nx(s, l):
    return s.n(N_X), 1


def _ny(s, l):
    return s.n(N_Y), 1


_RNN = dict(bold=False, indices="entries")
_RECURRENT_ROWS = (
    Kind("Wh", _hh, "trained", "shared", "tanh", letter="W", claim="W", text="W", numpy="W", **_RNN),
    Kind("Uh", _hx, "trained", "shared", "tanh", letter="U", claim="U", text="U", numpy="U", **_RNN),
    Kind("bh", _nh, "trained", "shared", "tanh", letter="b", claim="b", text="b", numpy="b"),
    Kind("V", _yh, "trained", "shared", letter="V", claim="V", text="V", numpy="V", **_RNN),
    Kind("cy", _ny, "trained", "shared", letter="c", claim="c", text="c", numpy="c"),
    Kind("c_n", _nh, "trained", "shared", "gru", letter="c_{n}", claim="c_n", text="c_n",
         numpy="c_n"),
    Kind("xt", _nx, "input", "time", letter="x", claim="x", text="x", numpy="x"),
    Kind("yt", _ny, "input", "time", letter="y", claim="y", text="y", numpy="y"),
    Kind("ht", _nh, "computed", "time", letter="h", claim="h", text="h", numpy="h"),
    Kind("at", _nh, "computed", "time", "tanh", letter="a", claim="a", text="a", numpy="a"),
    Kind("ct", _nh, "computed", "time", "lstm", letter="c", claim="c", text="c", numpy="cs"),
    Kind("kt", _nh, "computed", "time", "lstm", letter="k", claim="k", text="k",
         numpy="k"),        # tanh(c_t)
    Kind("mt", _nh, "computed", "time", "gru", letter="m", claim="m", text="m",
         numpy="m"),        # W_n h_{t-1} + c_n
    Kind("qt", _nh, "computed", "time", "gru", letter="q", claim="q", text="q",
         numpy="q"),        # r_t ⊙ m_t
    Kind("st", _ny, "computed", "time", letter="s", claim="s", text="s", numpy="s"),  # V h_t + c
    Kind("yh", _ny, "computed", "time", letter=r"\hat{y}", claim="yhat", text="ŷ",
         numpy="yhat"),
    Kind("lt", lambda s, l: (1, 1), "computed", "time", letter=r"\ell", bold=False,
         claim="l", text="ℓ", numpy="l"),   # one step's loss ℓ_t
)
#: one gate's rows (the LSTM's input gate i), copied for every gate of GATES
_GATE_ROWS = (
    Kind("W_i", _hh, "trained", "shared", "lstm", letter="W_{i}", claim="W_i", text="W_i",
         numpy="W_i", **_RNN),
    Kind("U_i", _hx, "trained", "shared", "lstm", letter="U_{i}", claim="U_i", text="U_i",
         numpy="U_i", **_RNN),
    Kind("b_i", _nh, "trained", "shared", "lstm", letter="b_{i}", claim="b_i", text="b_i",
         numpy="b_i"),
    Kind("a_i", _nh, "computed", "time", "lstm", letter="a_{i}", claim="a_i", text="a_i",
         numpy="a_i"),                  # the gate's pre-activation W_i h_{t-1} + U_i x_t + b_i
    Kind("gi", _nh, "computed", "time", "lstm", letter="i", claim="i", text="i", numpy="i"),
)


def _gate_row(row, cell, gate):
    """``row`` (of the gate i) for ``gate`` of ``cell``."""
    def named(text):
        return text.replace("i", gate)
    return replace(row, name=named(row.name), needs=cell, letter=named(row.letter),
                   claim=named(row.claim), text=named(row.text), numpy=named(row.numpy))


def recurrent_rows():
    """The quantity rows of a recurrent network (the block comment above)."""
    return _RECURRENT_ROWS + tuple(_gate_row(row, cell, gate) for cell, gates in GATES.items()
                                   for gate in gates for row in _GATE_ROWS)


#: every row of a recurrent network
RECURRENT_ROWS = recurrent_rows()
