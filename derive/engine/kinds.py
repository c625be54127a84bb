"""The op rows of the §1b layer kinds: layer and batch normalization, dropout and the
residual add (the activation is the plain row of `derive.engine.ops`, bound to ĥ_l or a_l
by its call).

A hidden layer with options computes, in this order (SPEC §1b)::

    h_l = W_l z_{l-1} (+ b_l)                              dense
    ĥ_l = γ_l ⊙ (h_l − μ_l) ⊘ sqrt(v_l + ε) + β_l           layer_norm / batch_norm
    a_l = σ(ĥ_l)                                           the activation
    z_l = [z_{l-1} +] [M_l ⊙] a_l                          dropout / residual / both

Each row has the index forward the VJPs are derived from; the normalization rows name
the per-sample (layer norm) or per-feature (batch norm) mean μ_l, variance v_l and the
standardized x̂_l = (h_l − μ_l) ⊘ sqrt(v_l + ε) as auxiliary quantities, which their
VJP claims (the textbook three-term forms) use, and which the check writes out through
their index definitions.
"""
from sympy import OneMatrix, Rational, S, Sum, Symbol, sqrt
from sympy.matrices.expressions import HadamardPower, HadamardProduct, Transpose

from ..ir.nodes import component
from ..vocab import BATCH, EPSILON
from .ops import defop

p_ = Symbol("p_", integer=True, positive=True)   # the index a normalization sums over
q_ = Symbol("q_", integer=True, positive=True)   # … and the one inside the variance


# --- normalization: statistics over the features (layer) or the samples (batch) -------
def _over(b, row, sample, feature):
    """(terms of the normalized group as a function of the summed index, group size)."""
    x = b["x"]
    if feature:
        return (lambda idx: b.sh.comp(x, idx, sample)), x.shape[0]
    return (lambda idx: b.sh.comp(x, row, idx)), BATCH


def _stats(b, row, sample, feature):
    """μ and v (biased) of the group of x_{row,sample} in index notation."""
    term, size = _over(b, row, sample, feature)
    mu = Sum(term(p_), (p_, 1, size)) / size
    var = Sum((term(q_) - Sum(term(p_), (p_, 1, size)) / size) ** 2, (q_, 1, size)) / size
    return mu, var


def _norm_rows(feature):
    def mean(b, row, sample):
        return _stats(b, row, sample, feature)[0]

    def variance(b, row, sample):
        return _stats(b, row, sample, feature)[1]

    def standardized(b, row, sample):
        mu, var = _stats(b, row, sample, feature)
        return (b.sh.comp(b["x"], row, sample) - mu) / sqrt(var + EPSILON)

    def index(b, row, sample, wrt=None):
        gamma, beta = (component(b[port], row) for port in ("gamma", "beta"))
        return gamma * standardized(b, row, sample) + beta

    def matrix(b):
        return _broadcast(b.sh, b["gamma"], b["xhat"]) + b.sh.spread(b["beta"])

    return dict(mu=mean, var=variance, xhat=standardized), index, matrix


def _broadcast(sh, v, M):
    """v ⊙ M with the per-feature column v repeated over the samples."""
    return HadamardProduct(sh.spread(v), M)


def inverse_std(b):
    """1 ⊘ sqrt(v + ε), elementwise, in the statistics' shape."""
    var = b["var"]
    return HadamardPower(var + EPSILON * OneMatrix(*var.shape), Rational(-1, 2))


def norm_vjp_x(b, G, feature):
    """The textbook three-term VJP: with g = γ ⊙ G, k the group size and 1 its ones,
    ∂J/∂x = (1/k) s ⊙ (k g − Σ g − x̂ ⊙ Σ (g ⊙ x̂)), Σ the group sum spread back over
    the group, s = 1 ⊘ sqrt(v + ε) spread likewise."""
    xhat = b["xhat"]
    g = _broadcast(b.sh, b["gamma"], G)
    if feature:
        size = b["x"].shape[0]
        ones = OneMatrix(size, 1)
        spread = lambda M: ones * Transpose(ones) * M          # noqa: E731
        s = ones * inverse_std(b)
    else:
        size, ones = BATCH, OneMatrix(BATCH, 1)
        spread = lambda M: M * ones * Transpose(ones)          # noqa: E731
        s = inverse_std(b) * Transpose(ones)
    inner = size * g - spread(g) - HadamardProduct(xhat, spread(HadamardProduct(g, xhat)))
    return S.One / size * HadamardProduct(s, inner)


def aux_matrix(b, port):
    """μ, v or x̂ as a matrix expression: the group sums as ones-vector products
    (1ᵀ x / n per sample for layer norm, x 1 / m per feature for batch norm)."""
    x, feature = b["x"], b.sh.norm != "batch"
    size = x.shape[0] if feature else BATCH
    ones = OneMatrix(size, 1)
    group = (lambda M: Transpose(ones) * M) if feature else (lambda M: M * ones)  # noqa: E731
    spread = (lambda v: ones * v) if feature else (lambda v: v * Transpose(ones))  # noqa: E731
    centred = x - spread(b["mu"])
    if port == "mu":
        return S.One / size * group(x)
    if port == "var":
        return S.One / size * group(HadamardPower(centred, 2))
    return HadamardProduct(centred, spread(inverse_std(b)))


_NORM_PORTS = {"y": ("hhat", 0), "x": ("h", 0), "gamma": ("gamma", 0), "beta": ("beta", 0),
               "mu": ("mu", 0), "var": ("var", 0), "xhat": ("xhat", 0)}
for _name, _feature in (("layer_norm", True), ("batch_norm", False)):
    _aux, _index, _matrix = _norm_rows(_feature)
    defop(_name, "y", ("x", "gamma", "beta"), _index, _matrix, _NORM_PORTS, aux=_aux,
          x=lambda b, G, f=_feature: norm_vjp_x(b, G, f),
          gamma=lambda b, G: b.sh.total(HadamardProduct(G, b["xhat"])),
          beta=lambda b, G: b.sh.total(G))

NORM_OPS = {"layer": "layer_norm", "batch": "batch_norm"}
#: the auxiliary ports of a normalization, in the order the forward defines them
NORM_AUX = ("mu", "var", "xhat")


# --- dropout and the residual add: y = [skip +] [M ⊙] x ----------------------------------
def _combine_row(dropout, residual):
    def index(b, row, sample, wrt=None):
        x = b.sh.comp(b["x"], row, sample)
        out = b.sh.comp(b["M"], row, sample) * x if dropout else x
        return out + b.sh.comp(b["skip"], row, sample) if residual else out

    def matrix(b):
        out = HadamardProduct(b["M"], b["x"]) if dropout else b["x"]
        return b["skip"] + out if residual else out

    vjps = {"x": (lambda b, G: HadamardProduct(b["M"], G)) if dropout else (lambda b, G: G)}
    ports = {"y": ("z", 0), "x": ("a", 0)}
    if dropout:
        ports["M"] = ("M", 0)
    inputs = ("x",)
    if residual:
        ports["skip"] = ("z", -1)
        inputs = ("x", "skip")
        vjps["skip"] = lambda b, G: G
    return dict(output="y", inputs=inputs, index=index, matrix=matrix, ports=ports, **vjps)


COMBINE_OPS = {}
for _dropout, _residual, _name in ((True, False, "dropout"), (False, True, "residual"),
                                   (True, True, "dropout_residual")):
    defop(_name, **_combine_row(_dropout, _residual))
    COMBINE_OPS[(_dropout, _residual)] = _name

#: the normalization of a row's network shape (`derive.engine.ops.Shapes`)
NORM_OF = {row: norm for norm, row in NORM_OPS.items()}
