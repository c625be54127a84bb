"""The op rows of self-attention and the pre-norm transformer block (SPEC §1c).

Columns are tokens: X ∈ ℝ^{d×T}. One head of block l computes, from the normalized
input X_l (every row's forward is its index form below; `derive.engine.vjp` derives each
VJP from it and checks the claim)::

    Q = W_Q X + b_Q 𝟏ᵀ                     token_dense: Y[i, t] = Σ_j W[i, j] X[j, t] + b[i]
    K = W_K X + b_K 𝟏ᵀ,  V = W_V X + b_V 𝟏ᵀ  (the same row; X fans out into the three)
    S = Kᵀ Q / √d_k                        scores: S[t, s] = Σ_j K[j, t] Q[j, s] / √d_k
    A = softmax(S) over each column        column_softmax: A[t, s] = e^{S[t, s]} / Σ_q e^{S[q, s]}
                                           causal_softmax: the same with [t ≤ s] in front of
                                           every exponential (S_ts = −∞ for t > s)
    H = V A                                attend: H[i, s] = Σ_t V[i, t] A[t, s]
    O = Σ_h W_O,h H_h + b_O 𝟏ᵀ              token_dense per head, summed by token_add

and the block around it: per-token layer norm as standardize (X̂ = (X − 𝟏μ) ⊙ 𝟏r, μ and
r = (v + ε)^{-1/2} per column) then token_affine (γ𝟏ᵀ ⊙ X̂ + β𝟏ᵀ), the residual adds
(token_add), the MLP (token_dense, an elementwise activation row of
`derive.engine.ops`, token_dense). The output head is token_dense, an activation
(column_softmax for a softmax head), and ``token_loss:<loss>``: the §1 loss of every
token averaged over the T tokens.

The softmax's claimed VJP is A ⊙ (G − 𝟏(𝟏ᵀ(A ⊙ G))): per column a, (diag(a) − a aᵀ) g.
Its column sums vanish (𝟏ᵀ(A ⊙ (G − 𝟏(𝟏ᵀ(A ⊙ G)))) = 𝟏ᵀ(A ⊙ G)(1 − 𝟏ᵀA) = 0, as every
column of A sums to 1), which is why the key bias b_K gets no gradient: its VJP through
the scores is (Q (dJ/dS)ᵀ / √d_k) 𝟏 = Q ((dJ/dS)ᵀ 𝟏) / √d_k, and (dJ/dS)ᵀ 𝟏 = 0.
"""
from sympy import IndexedBase, OneMatrix, S, Sum, Symbol, diff, sqrt
from sympy.matrices.expressions import HadamardPower, HadamardProduct, Transpose

from ..calculus.kronecker import lift, tidy
from ..ir.attention import ColumnSoftmax
from ..spec import rules
from ..vocab import EPSILON, i, k, r
from .ops import defop

j_, p_, q_ = (Symbol(name, integer=True, positive=True) for name in ("j_", "p_", "q_"))

#: the op rows a transformer's blocks call, besides an elementwise activation and a loss
ATTENTION_OPS = ("token_dense", "token_linear", "token_add", "standardize", "token_affine",
                 "scores", "column_softmax", "causal_softmax", "attend")
#: the softmax row over columns, causal or not
SOFTMAX_OPS = {False: "column_softmax", True: "causal_softmax"}


def _at(M, row, col):
    return IndexedBase(M)[row, col]


def _ones(n):
    return OneMatrix(n, 1)


# --- per-token affine maps: Y = W X (+ b 𝟏ᵀ) ----------------------------------------
def _linear_index(b, row, col):
    x = b["x"]
    return Sum(_at(b["W"], row, j_) * _at(x, j_, col), (j_, 1, x.shape[0]))


def _spread(v, cols):
    """v 𝟏ᵀ: a per-feature column repeated over the tokens."""
    return v * Transpose(_ones(cols))


_PROJECTION = {"y": ("Qa", 0), "W": ("W_Q", 0), "x": ("Xn", 0)}
defop("token_dense", "y", ("W", "x", "b"),
      lambda b, row, col, wrt=None: _linear_index(b, row, col) + IndexedBase(b["b"])[row],
      lambda b: b["W"] * b["x"] + _spread(b["b"], b["x"].shape[1]),
      dict(_PROJECTION, b=("b_Q", 0)), batched=False,
      W=lambda b, G: G * Transpose(b["x"]), x=lambda b, G: Transpose(b["W"]) * G,
      b=lambda b, G: G * _ones(G.shape[1]))
defop("token_linear", "y", ("W", "x"),
      lambda b, row, col, wrt=None: _linear_index(b, row, col),
      lambda b: b["W"] * b["x"], _PROJECTION, batched=False,
      W=lambda b, G: G * Transpose(b["x"]), x=lambda b, G: Transpose(b["W"]) * G)

# --- the residual add (and the sum over heads): Y = X + skip --------------------------
defop("token_add", "y", ("x", "skip"),
      lambda b, row, col, wrt=None: _at(b["x"], row, col) + _at(b["skip"], row, col),
      lambda b: b["x"] + b["skip"], {"y": ("Zt", 0), "x": ("Mm", 0), "skip": ("Ut", 0)},
      batched=False, x=lambda b, G: G, skip=lambda b, G: G)


# --- layer norm per token: standardize, then the per-feature affine map --------------
def _mean(x, col):
    return Sum(_at(x, p_, col), (p_, 1, x.shape[0])) / x.shape[0]


def standardize_index(b, row, col, wrt=None):
    """X̂[row, col] = (X[row, col] − μ_col) / sqrt(v_col + ε), μ and v (biased) over the
    d features of token col."""
    x = b["x"]
    centred = _at(x, q_, col) - _mean(x, col)
    var = Sum(centred ** 2, (q_, 1, x.shape[0])) / x.shape[0]
    return (_at(x, row, col) - _mean(x, col)) / sqrt(var + EPSILON)


def inverse_std(x):
    """r = (v + ε)^{-1/2} per token (1 × T), v = 𝟏ᵀ(X − 𝟏𝟏ᵀX/d)^{∘2}/d."""
    d, ones = x.shape[0], _ones(x.shape[0])
    centred = x - S.One / d * ones * Transpose(ones) * x
    var = S.One / d * Transpose(ones) * HadamardPower(centred, 2)
    return HadamardPower(var + EPSILON * Transpose(_ones(x.shape[1])), -S.Half)


def standardize_matrix(b):
    x = b["x"]
    ones = _ones(x.shape[0])
    centred = x - S.One / x.shape[0] * ones * Transpose(ones) * x
    return HadamardProduct(centred, ones * inverse_std(x))


def standardize_vjp(b, G):
    """(1/d) 𝟏r ⊙ (d G − 𝟏𝟏ᵀG − X̂ ⊙ 𝟏𝟏ᵀ(G ⊙ X̂)): the textbook three terms per token."""
    x, xhat = b["x"], b["y"]
    d, ones = x.shape[0], _ones(x.shape[0])
    spread = ones * Transpose(ones)
    inner = d * G - spread * G - HadamardProduct(xhat, spread * HadamardProduct(G, xhat))
    return S.One / d * HadamardProduct(ones * inverse_std(x), inner)


defop("standardize", "y", ("x",), standardize_index, standardize_matrix,
      {"y": ("Xs", 0), "x": ("Zt", -1)}, batched=False, x=standardize_vjp)

defop("token_affine", "y", ("x", "gamma", "beta"),
      lambda b, row, col, wrt=None: (IndexedBase(b["gamma"])[row] * _at(b["x"], row, col)
                                     + IndexedBase(b["beta"])[row]),
      lambda b: (HadamardProduct(_spread(b["gamma"], b["x"].shape[1]), b["x"])
                 + _spread(b["beta"], b["x"].shape[1])),
      {"y": ("Xn", 0), "x": ("Xs", 0), "gamma": ("gamma_1", 0), "beta": ("beta_1", 0)},
      batched=False,
      x=lambda b, G: HadamardProduct(_spread(b["gamma"], G.shape[1]), G),
      gamma=lambda b, G: HadamardProduct(G, b["x"]) * _ones(G.shape[1]),
      beta=lambda b, G: G * _ones(G.shape[1]))


# --- the scores, the column softmax, the value product ---------------------------------
def scores_index(b, row, col, wrt=None):
    """S[row, col] = Σ_j K[j, row] Q[j, col] / √d_k: key row against query col."""
    keys = b["k"]
    width = keys.shape[0]
    return Sum(_at(keys, j_, row) * _at(b["q"], j_, col), (j_, 1, width)) / sqrt(width)


def _root(b):
    return sqrt(b["k"].shape[0])


defop("scores", "y", ("k", "q"), scores_index,
      lambda b: S.One / _root(b) * Transpose(b["k"]) * b["q"],
      {"y": ("Sa", 0), "k": ("Ka", 0), "q": ("Qa", 0)}, batched=False,
      k=lambda b, G: S.One / _root(b) * b["q"] * Transpose(G),
      q=lambda b, G: S.One / _root(b) * b["k"] * G)


def softmax_vjp(b, G):
    """A ⊙ (G − 𝟏(𝟏ᵀ(A ⊙ G))): per column a, (diag(a) − a aᵀ) g."""
    A = b["y"]
    ones = _ones(A.shape[0])
    return HadamardProduct(A, G - ones * (Transpose(ones) * HadamardProduct(A, G)))


for _causal, _name in SOFTMAX_OPS.items():
    defop(_name, "y", ("x",),
          lambda b, row, col, wrt=None, c=_causal: ColumnSoftmax(b["x"], c).component(row, col),
          lambda b, c=_causal: ColumnSoftmax(b["x"], c),
          {"y": ("Aa", 0), "x": ("Sa", 0)}, batched=False, x=softmax_vjp)

defop("attend", "y", ("v", "a"),
      lambda b, row, col, wrt=None: Sum(_at(b["v"], row, j_) * _at(b["a"], j_, col),
                                        (j_, 1, b["a"].shape[0])),
      lambda b: b["v"] * b["a"], {"y": ("Ha", 0), "v": ("Va", 0), "a": ("Aa", 0)},
      batched=False, v=lambda b, G: G * Transpose(b["a"]), a=lambda b, G: Transpose(b["v"]) * G)


# --- the loss of every token, averaged over the T tokens --------------------------------
def _token_loss_row(loss):
    def term(b, row, col):
        return loss.term.xreplace({rules.u: _at(b["x"], row, col), rules.t: _at(b["t"], row, col)})

    def factor(b):
        x = b["x"]
        return loss.factor.xreplace({rules.n: x.shape[0]}) / x.shape[1]

    def index(b, *_, **__):
        rows, cols = b["x"].shape
        return factor(b) * Sum(term(b, i, r), (i, 1, rows), (r, 1, cols))

    def matrix(b):
        rows, cols = b["x"].shape
        return factor(b) * Transpose(_ones(rows)) * lift(term(b, k, r), (rows, cols)) * _ones(cols)

    def vjp_x(b, G):
        local = diff(loss.term, rules.u).xreplace({rules.u: _at(b["x"], k, r),
                                                   rules.t: _at(b["t"], k, r)})
        return lift(tidy(factor(b) * local), b["x"].shape)

    return dict(output="J", inputs=("x",), index=index, matrix=matrix,
                ports={"J": ("J", 0), "x": ("Yh", 0), "t": ("Yt", 0)}, scalar=True,
                last=True, batched=False, x=vjp_x)


for _row in rules.LOSSES.values():
    defop("token_loss:" + _row.name, **_token_loss_row(_row))
