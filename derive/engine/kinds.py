"""The op rows of the §1b layer kinds: layer and batch normalization, dropout and the
residual add, and the activation rows they need (σ read from ĥ_l, written to a_l).

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
from ..spec import rules
from ..vocab import BATCH, EPSILON
from .ops import OPS, defop, elementwise_row, op_row

p_ = Symbol("p_", integer=True, positive=True)   # the index a normalization sums over
q_ = Symbol("q_", integer=True, positive=True)   # … and the one inside the variance


# --- normalization: statistics over the features (layer) or the samples (batch) -------
def _over(sh, layer, row, sample, feature):
    """(terms of the normalized group as a function of the summed index, group size)."""
    h = sh.var("h", layer)
    if feature:
        return (lambda idx: sh.comp(h, idx, sample)), sh.n(layer)
    return (lambda idx: sh.comp(h, row, idx)), BATCH


def _stats(sh, layer, row, sample, feature):
    """μ and v (biased) of the group of h_{row,sample} in index notation."""
    term, size = _over(sh, layer, row, sample, feature)
    mu = Sum(term(p_), (p_, 1, size)) / size
    var = Sum((term(q_) - Sum(term(p_), (p_, 1, size)) / size) ** 2, (q_, 1, size)) / size
    return mu, var


def _norm_rows(feature):
    def mean(sh, layer, row, sample):
        return _stats(sh, layer, row, sample, feature)[0]

    def variance(sh, layer, row, sample):
        return _stats(sh, layer, row, sample, feature)[1]

    def standardized(sh, layer, row, sample):
        mu, var = _stats(sh, layer, row, sample, feature)
        return (sh.comp(sh.var("h", layer), row, sample) - mu) / sqrt(var + EPSILON)

    def index(sh, layer, row, sample, wrt=None):
        gamma, beta = (component(sh.var(k, layer), row) for k in ("gamma", "beta"))
        return gamma * standardized(sh, layer, row, sample) + beta

    def matrix(sh, layer):
        return _broadcast(sh, sh.var("gamma", layer), sh.var("xhat", layer)) + \
            sh.spread(sh.var("beta", layer))

    return dict(mu=mean, var=variance, xhat=standardized), index, matrix


def _broadcast(sh, v, M):
    """v ⊙ M with the per-feature column v repeated over the samples."""
    return HadamardProduct(sh.spread(v), M)


def inverse_std(sh, layer):
    """1 ⊘ sqrt(v_l + ε), elementwise, in the statistics' shape."""
    var = sh.var("var", layer)
    return HadamardPower(var + EPSILON * OneMatrix(*var.shape), Rational(-1, 2))


def norm_vjp_h(sh, layer, G, feature):
    """The textbook three-term VJP: with g = γ ⊙ G, k the group size and 1 its ones,
    ∂J/∂h = (1/k) s ⊙ (k g − Σ g − x̂ ⊙ Σ (g ⊙ x̂)), Σ the group sum spread back over
    the group, s = 1 ⊘ sqrt(v + ε) spread likewise."""
    xhat = sh.var("xhat", layer)
    g = _broadcast(sh, sh.var("gamma", layer), G)
    if feature:
        size, ones = sh.n(layer), OneMatrix(sh.n(layer), 1)
        spread = lambda M: ones * Transpose(ones) * M          # noqa: E731
        s = ones * inverse_std(sh, layer)
    else:
        size, ones = BATCH, OneMatrix(BATCH, 1)
        spread = lambda M: M * ones * Transpose(ones)          # noqa: E731
        s = inverse_std(sh, layer) * Transpose(ones)
    inner = size * g - spread(g) - HadamardProduct(xhat, spread(HadamardProduct(g, xhat)))
    return S.One / size * HadamardProduct(s, inner)


def aux_matrix(sh, kind, layer):
    """μ_l, v_l or x̂_l as a matrix expression: the group sums as ones-vector products
    (1ᵀ h / n per sample for layer norm, h 1 / m per feature for batch norm)."""
    h, feature = sh.var("h", layer), sh.norm != "batch"
    size = sh.n(layer) if feature else BATCH
    ones = OneMatrix(size, 1)
    group = (lambda M: Transpose(ones) * M) if feature else (lambda M: M * ones)  # noqa: E731
    spread = (lambda v: ones * v) if feature else (lambda v: v * Transpose(ones))  # noqa: E731
    centred = h - spread(sh.var("mu", layer))
    if kind == "mu":
        return S.One / size * group(h)
    if kind == "var":
        return S.One / size * group(HadamardPower(centred, 2))
    return HadamardProduct(centred, spread(inverse_std(sh, layer)))


_NORM_PORTS = {"hhat": ("hhat", 0), "h": ("h", 0), "gamma": ("gamma", 0), "beta": ("beta", 0)}
for _name, _feature in (("layer_norm", True), ("batch_norm", False)):
    _aux, _index, _matrix = _norm_rows(_feature)
    defop(_name, "hhat", ("h", "gamma", "beta"), _index, _matrix, _NORM_PORTS, aux=_aux,
          h=lambda sh, layer, G, f=_feature: norm_vjp_h(sh, layer, G, f),
          gamma=lambda sh, layer, G: sh.total(HadamardProduct(G, sh.var("xhat", layer))),
          beta=lambda sh, layer, G: sh.total(G))

NORM_OPS = {"layer": "layer_norm", "batch": "batch_norm"}


# --- dropout and the residual add: z_l = [z_{l-1} +] [M_l ⊙] a_l ----------------------
def _combine_row(dropout, residual):
    def index(sh, layer, row, sample, wrt=None):
        a = sh.comp(sh.var("a", layer), row, sample)
        out = sh.comp(sh.var("M", layer), row, sample) * a if dropout else a
        return out + sh.comp(sh.var("z", layer - 1), row, sample) if residual else out

    def matrix(sh, layer):
        a = sh.var("a", layer)
        out = HadamardProduct(sh.var("M", layer), a) if dropout else a
        return sh.var("z", layer - 1) + out if residual else out

    vjps = {"a": (lambda sh, layer, G: HadamardProduct(sh.var("M", layer), G)) if dropout
            else (lambda sh, layer, G: G)}
    ports = {"z": ("z", 0), "a": ("a", 0), "M": ("M", 0)}
    inputs = ("a",)
    if residual:
        ports["zprev"] = ("z", -1)
        inputs = ("a", "zprev")
        vjps["zprev"] = lambda sh, layer, G: G
    return dict(output="z", inputs=inputs, index=index, matrix=matrix, ports=ports, **vjps)


COMBINE_OPS = {}
for _dropout, _residual, _name in ((True, False, "dropout"), (False, True, "residual"),
                                   (True, True, "dropout_residual")):
    defop(_name, **_combine_row(_dropout, _residual))
    COMBINE_OPS[(_dropout, _residual)] = _name


def activation_row(name, src, dst):
    """The row of activation ``name`` reading ``src`` and writing ``dst`` (a table row
    ``name@src->dst``, registered below for every elementwise built-in and on first use
    for a ``custom:`` one); the plain row when it is h -> z."""
    if (src, dst) == ("h", "z"):
        return op_row(name)
    key = f"{name}@{src}->{dst}"
    if key not in OPS:
        defop(key, **elementwise_row(rules.activation(name), src, dst))
    return OPS[key]


#: the ports an activation reads and writes inside a hidden block with options
ACTIVATION_PORTS = (("h", "a"), ("hhat", "a"), ("hhat", "z"))
for _row in rules.ACTIVATIONS.values():
    if _row.elementwise:
        for _src, _dst in ACTIVATION_PORTS:
            activation_row(_row.name, _src, _dst)

#: the normalization of a row's network shape (`derive.engine.ops.Shapes`)
NORM_OF = {row: norm for norm, row in NORM_OPS.items()}
