"""The symbols every part shares, named once: depth, layer, widths, batch size, loss,
learning rate, the index letters of index notation, and the placeholders the rule rows
are written in.

>>> WIDTH[DEPTH - 1], BATCH, LAYER
(n[L - 1], m, l)
"""
from sympy import IndexedBase, Symbol, symbols

WIDTH = IndexedBase("n")                             # symbolic widths n_0 … n_L
BATCH = Symbol("m", integer=True, positive=True)     # batch size
LOSS = Symbol("J")                                   # the scalar loss
DATA_LOSS = Symbol("J_data")                         # the loss before the decay penalty
ETA = Symbol("eta", positive=True)                   # learning rate
LAMBDA = Symbol("lambda", positive=True)             # the weight-decay coefficient
EPSILON = Symbol("epsilon", positive=True)           # the normalization's small constant
DEPTH = Symbol("L", integer=True, positive=True)     # symbolic depth
LAYER = Symbol("l", integer=True, positive=True)     # a general layer
LAYER_SUM = Symbol("l", integer=True)                # a sum over the layers (not substituted)
LENGTH = IndexedBase("N")                            # a convolution's lengths N_0 … N_L
KERNEL = Symbol("kappa", integer=True, positive=True)  # a convolution's kernel size κ
POOL = Symbol("p", integer=True, positive=True)      # a pooling window (and its stride)
# a transformer's sizes (one width throughout, so fixed symbols, not per layer)
MODEL_WIDTH = Symbol("d", integer=True, positive=True)      # d: a token's features
KEY_WIDTH = Symbol("d_k", integer=True, positive=True)      # d_k = d_v: a head's width
TOKENS = Symbol("T", integer=True, positive=True)           # T: the tokens (columns)
MLP_WIDTH = Symbol("d_ff", integer=True, positive=True)     # the MLP's hidden width
OUT_WIDTH = Symbol("d_y", integer=True, positive=True)      # the output head's width
COLUMNS = IndexedBase("N'")                          # a 2-D convolution's image columns N'_l

#: index letters: i, j, k summed; a, b free (the weight entry); s the sample; r a sample
i, j, k, a, b, s, r = symbols("i j k a b s r", integer=True, positive=True)

#: the placeholders of the rule rows: σ(x) with output u = σ(x); a loss term ℓ(u, t) of
#: an output component u and its target t; n the output width (mean losses)
ACTIVATION_INPUT = Symbol("x", real=True)
ACTIVATION_OUTPUT = Symbol("u", real=True)
TARGET = Symbol("t", real=True)
OUTPUT_WIDTH = Symbol("n", integer=True, positive=True)
