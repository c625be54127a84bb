"""The normalization's backward pass, derived entry by entry from the engine's forward.

The engine states the normalization of a hidden layer as matrix definitions (its forward
steps): μ_l and v_l as group sums written with a ones vector, x̂_l = (h_l − μ_l) ⊘
sqrt(v_l + ε) spread over the group, ĥ_l = γ_l ⊙ x̂_l + β_l. `entry` reads one entry of
such an expression as a sum over the group (a ones factor contributes a summed index).
SymPy then differentiates x̂ with respect to one pre-activation of the same group, and
named rules make the result readable:

* `contract`: a sum over the group of an indicator keeps the one matching term;
* `name_statistics`: the group sums that define μ and v become those names again
  (`mean_back`: the group sum of the pre-activations is the group size times μ);
* `standardize`: a pre-activation is μ + sqrt(v + ε) x̂ (the forward solved for h).

The vector-Jacobian product then follows by the chain rule through the scale γ, and the
same rules turn it into three terms; the page ends with them as a lecturer writes them,
one line per group (`derive.documents.norm_forms`, built from the engine's own step).
Layer norm groups the features of one sample; batch norm the samples of one feature.
"""
from sympy import Add, Basic, Identity, KroneckerDelta, Mul, Pow, Sum, Symbol, diff, expand, sqrt
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd, MatMul

from ..ir.nodes import Partial, Var, component
from ..ir.steps import Rule, Step
from ..printing.group_forms import GroupMean, Named
from ..vocab import EPSILON, LAYER, LOSS
from .norm_forms import lecturer_lines
from .scalars import Scalar

_i, _k, _s = (Symbol(c, integer=True, positive=True) for c in "iks")
_j, _r, _t = (Symbol(c, integer=True, positive=True) for c in "jrt")
_DUMMIES = tuple(Symbol(c, integer=True, positive=True) for c in "pquvw")


def entry(expr, row, col, used=()):
    """The (row, col) entry of a matrix expression of Vars, ones and entrywise
    operations, as a scalar SymPy expression; a product sums over its inner index
    (a fresh one of p, q, … not in ``used``) unless that dimension is 1.

    >>> from sympy import OneMatrix, Symbol
    >>> from derive.ir.nodes import Var
    >>> n, i, s = Symbol("n"), Symbol("i"), Symbol("s")
    >>> entry(OneMatrix(1, n) * Var("h", 2, n, 3), 0, s)
    Sum(h_2[p, s], (p, 1, n))
    """
    if isinstance(expr, Var):
        return _component(expr, row, col)
    if type(expr).__name__ == "OneMatrix":
        return 1
    if isinstance(expr, Identity):      # SymPy's 1 × 1 ones block (one sample)
        return KroneckerDelta(row, col) if expr.shape != (1, 1) else 1
    if isinstance(expr, MatAdd):
        return Add(*[entry(a, row, col, used) for a in expr.args])
    if isinstance(expr, HadamardProduct):
        return Mul(*[entry(a, row, col, used) for a in expr.args])
    if isinstance(expr, HadamardPower):
        return Pow(entry(expr.base, row, col, used), expr.exp)
    if isinstance(expr, MatMul):
        return _product(expr, row, col, used)
    if isinstance(expr, Basic) and not getattr(expr, "is_Matrix", False):
        return expr
    raise ValueError(f"entry: {type(expr).__name__} is not covered")


def _product(expr, row, col, used):
    scalars = [a for a in expr.args if not getattr(a, "is_Matrix", False)]
    mats = [a for a in expr.args if getattr(a, "is_Matrix", False)]
    if len(mats) == 1:
        return Mul(*scalars, entry(mats[0], row, col, used))
    first, rest = mats[0], MatMul(*mats[1:])
    inner = first.shape[1]
    if inner == 1:
        return Mul(*scalars, entry(first, row, 0, used), entry(rest, 0, col, used))
    taken = set(used) | expr.free_symbols | Add(row, col).free_symbols
    q = next(d for d in _DUMMIES if d not in taken)
    body = entry(first, row, q, taken | {q}) * entry(rest, q, col, taken | {q})
    return Mul(*scalars, Sum(body, (q, 1, inner)))


def _component(var, row, col):
    """One entry of a layer quantity; a 1 × 1 one (the statistics of a single sample's
    layer norm) is the number it holds."""
    rows, cols = var.shape
    if (rows, cols) == (1, 1):
        return Scalar(var)
    if rows == 1:
        return component(var, col)
    if cols == 1:
        return component(var, row)
    return component(var, row, col)


class Group:
    """One normalized group of a hidden layer, read off the engine's forward steps:
    the definitions of μ, v, x̂ and ĥ (matrix forms), the group's two indices, the
    fixed one and the size (layer norm: the features i, k of a sample s; batch norm:
    the samples r, t of a feature j)."""

    def __init__(self, steps, norm):
        self.defs = {s.lhs.kind: s for s in steps if isinstance(s.lhs, Var)}
        h = self.defs["xhat"].lhs
        self.layer, self.feature = h.layer, norm == "layer"
        self.a, self.b = (_i, _k) if self.feature else (_r, _t)
        self.fixed = _s if self.feature else _j
        self.size = h.shape[0] if self.feature else h.shape[1]
        self.single = h.shape[1] == 1       # one sample: no sample index anywhere
        self.h = Var("h", h.layer, *h.shape)
        self.mu, self.v = (entry(self.defs[k].lhs, *self._pos(self.fixed)) for k in
                           ("mu", "var"))

    def _pos(self, idx):
        return (idx, self.fixed) if self.feature else (self.fixed, idx)

    def at(self, kind, idx):
        """The entry of h, x̂, ĥ, δ, γ … of this layer at group index ``idx``."""
        var = self.defs[kind].lhs if kind in self.defs else Var(kind, self.layer, *self.h.shape)
        return entry(var, *self._pos(idx))

    def definition(self, kind, idx):
        """The engine's definition of μ, v, x̂ or ĥ, one entry (names kept)."""
        return entry(self.defs[kind].rhs, *self._pos(idx))

    def expanded(self, kind):
        """x̂ (or ĥ) at group index a with μ and v written out through h."""
        mu = self.definition("mu", self.a).xreplace({_DUMMIES[0]: _DUMMIES[1]})
        var = self.definition("var", self.a).xreplace({self.mu: mu})
        return self.definition(kind, self.a).xreplace({self.mu: mu, self.v: var})


def name_statistics(expr, grp):
    """Write the group sums that define μ and v by their names: Σ h = (group size) μ
    (`mean_back`), then Σ (h − μ)² = (group size) v."""
    expr = mean_back(expr, grp)
    centred = grp.at("h", _DUMMIES[0]) - grp.mu

    def is_var_sum(e):
        return isinstance(e, Sum) and e.function == centred.xreplace(
            {_DUMMIES[0]: e.limits[0][0]}) ** 2
    return expr.replace(is_var_sum, lambda e: grp.size * grp.v)


def contract(expr):
    """Evaluate every group sum term by term: an indicator of the summed index keeps the
    matching term, a term free of the index counts the group size times, and the factors
    of any other term that do not depend on the index move in front of its sum."""
    def one(s):
        q, lo, hi = s.limits[0]
        out = 0
        for term in Add.make_args(expand(s.function)):
            ind = [f for f in Mul.make_args(term) if isinstance(f, KroneckerDelta)
                   and q in f.free_symbols]
            if ind:
                other = [a for a in ind[0].args if a != q][0]
                out += (term / ind[0]).xreplace({q: other})
            elif q not in term.free_symbols:
                out += term * (hi - lo + 1)
            else:     # the factors free of the index move out of the sum
                free = Mul(*[f for f in Mul.make_args(term) if q not in f.free_symbols])
                out += free * Sum(term / free, (q, lo, hi))
        return out
    return expr.replace(lambda e: isinstance(e, Sum), one)


def mean_back(expr, grp):
    """Σ over the group of the pre-activations = group size × μ (μ's definition)."""
    def is_h_sum(e):
        return isinstance(e, Sum) and e.function == grp.at("h", e.limits[0][0])
    return expr.replace(is_h_sum, lambda e: grp.size * grp.mu)


def standardize(expr, grp):
    """Each pre-activation of the group as μ + sqrt(v + ε) x̂ (the forward solved for h)."""
    base = grp.at("h", grp.a).base

    def is_h(e):
        return getattr(e, "base", None) == base
    std = sqrt(grp.v + EPSILON)
    return expr.replace(is_h, lambda e: grp.mu + std * grp.at("xhat", _index(e, grp)))


def _index(e, grp):
    return e.indices[0] if grp.feature else e.indices[1]


def statistics_lines(grp):
    """∂μ/∂h_b and ∂v/∂h_b from the engine's definitions, indicators summed out (the
    mean's share in v drops: the centred values sum to zero over the group)."""
    h_b = grp.at("h", grp.b)
    mu = name_statistics(contract(diff(grp.definition("mu", grp.a), h_b)), grp)
    var = name_statistics(contract(diff(grp.definition("var", grp.a), h_b)), grp)
    return [(Partial(grp.mu, h_b), mu), (Partial(grp.v, h_b), var)]


def jacobian_chain(grp):
    """∂x̂_a/∂h_b: differentiated from the engine's forward, then made readable (the
    first two forms are kept for the derivation, the last two are printed)."""
    raw = diff(grp.expanded("xhat"), grp.at("h", grp.b))
    named = name_statistics(raw, grp)
    summed = name_statistics(contract(named), grp)
    return [raw, named, summed, _scaled(standardize(summed, grp), grp)]


def _scaled(expr, grp):
    """expr as 1/sqrt(v + ε) times a sum (the common factor pulled out, unevaluated)."""
    root = sqrt(grp.v + EPSILON)
    return Mul(1 / root, expand(expr * root), evaluate=False)


def cotangent(grp, idx):
    """∂J/∂x̂ at group index ``idx``: the cotangent the standardization receives."""
    return Partial(LOSS, grp.at("xhat", idx))


def vjp_chain(grp, jac):
    """δ_b = Σ_a ∂J/∂x̂_a ∂x̂_a/∂h_b: the chain rule, the Jacobian put in, the indicator
    summed out."""
    lhs_jac = Partial(grp.at("xhat", grp.a), grp.at("h", grp.b))
    chain = Sum(cotangent(grp, grp.a) * lhs_jac, (grp.a, 1, grp.size))
    total = Sum(cotangent(grp, grp.a) * jac, (grp.a, 1, grp.size))
    return [chain, total, _scaled(contract(total), grp)]


def scale_line(grp):
    """∂J/∂x̂_a = γ_a ∂J/∂ĥ_a: the chain rule through ĥ = γ x̂ + β, differentiated."""
    hhat = grp.definition("hhat", grp.a)
    return cotangent(grp, grp.a), diff(hhat, grp.at("xhat", grp.a)) * \
        Partial(LOSS, grp.at("hhat", grp.a))


def page(doc):
    """The printed displays of the page (None when the network has no normalization):
    derived at the layer below the output, the general layer l with a symbolic depth.
    Every display carries its ``steps`` (lhs, rhs as SymPy objects) for the truth check."""
    net = doc.d.net
    if net.norm == "none":
        return None
    layer = LAYER if net.symbolic else net.L - 1
    steps = [s for s in doc.d.steps if s.topic == "forward" and s.layer == layer]
    grp = Group(steps, net.norm)
    defs = [(grp.mu, "mu"), (grp.v, "var"), (grp.at("xhat", grp.a), "xhat"),
            (grp.at("hhat", grp.a), "hhat")]
    jac = jacobian_chain(grp)
    vjp = vjp_chain(grp, jac[-1])
    delta = [s for s in doc.d.steps if s.layer == layer and s.rule == "matrix form"][-1]
    lhs_jac = Partial(grp.at("xhat", grp.a), grp.at("h", grp.b))
    lhs_delta = grp.at("delta", grp.b)
    g = Named(doc.names[0], layer, delta.lhs)
    along = "rows" if net.norm == "batch" else "columns"
    return dict(
        layer=doc.layer(layer), batch=net.norm == "batch", single=grp.single,
        group=doc.tex(grp.a), other=doc.tex(grp.b), fixed=doc.tex(grp.fixed),
        size=doc.tex(grp.size), g=doc.tex(g), mean=doc.tex(GroupMean(g, along)),
        sigma=doc.tex(Named(doc.names[1], layer, grp.defs["var"].lhs, bold=False)),
        defs=_lines(doc, [(lhs, grp.definition(k, grp.a)) for lhs, k in defs]),
        stats=_lines(doc, statistics_lines(grp)),
        jacobian=_lines(doc, [(lhs_jac, e) for e in jac[2:]],
                        ("in terms of the standardized values",)),
        scale=_lines(doc, [scale_line(grp)]),
        vjp=_lines(doc, [(lhs_delta, e) for e in vjp], (r"by the Jacobian above",
                                                        "indicator summed out")),
        matrix=_lines(doc, lecturer_lines(delta.lhs, delta.rhs, doc.names) or
                      [(delta.lhs, delta.rhs)]))


def _lines(doc, pairs, why=()):
    """A display for the templates' ``display`` macro: ``why`` holds the words of the
    lines after the first; a line's left side is printed only when it changes. The
    pairs themselves are kept as ``steps`` (a line with the same left side continues
    the chain of the one before)."""
    lines, prev = [], None
    for n, (lhs, rhs) in enumerate(pairs):
        words = [("words", why[n - 1])] if 0 < n <= len(why) else []
        lines.append(dict(lhs="" if lhs == prev else doc.tex(lhs), rhs=doc.tex(rhs), rel="=",
                          why=words))
        prev = lhs
    return dict(lines=lines, number=0, steps=[Step(lhs, rhs, Rule.DEFINITION, 0, "hidden")
                                              for lhs, rhs in pairs])
