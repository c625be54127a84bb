"""Row-vector results: the numerator layout's forms, obtained from the engine's columns.

The engine derives every error and gradient as a column object (denominator layout):
δ_l = (W_{l+1}ᵀ δ_{l+1}) ⊙ σ'(h_l), ∂J/∂z_l = W_{l+1}ᵀ δ_{l+1}, ∂J/∂W_l = δ_l z_{l−1}ᵀ.
In numerator layout (002's convention) the derivative of the loss with respect to a
column vector is the row vector ∂J/∂h_l = δ_lᵀ. The rule that turns one into the other
is SymPy's transpose: ``Transpose(expr).doit()`` distributes over ⊙ and reverses
products, (Wᵀδ)ᵀ = δᵀW; the transposed errors δ_kᵀ are then named as the row
derivatives they are, and a product δ_{l+1}ᵀ W_{l+1} as the row derivative ∂J/∂z_l it
equals. The results are 002's (75)–(77):

    ∂L/∂g^n = ∂L/∂h^n ⊙ σ'(g^n)ᵀ,   ∂L/∂h^{n−1} = ∂L/∂g^n W^n,
    ∂L/∂W^n = (∂L/∂g^n)ᵀ (h^{n−1})ᵀ.

A network with the §1b options names more cotangents (∂J/∂z_l, ∂J/∂a_l, ∂J/∂ĥ_l) and
the gradients of γ_l and β_l; each is a row in the same way, its line transposed as
written (`WALKED`). With a batch, the layer quantities have one column per sample and
their rows are the transposed blocks, like δ's; only the weights keep their shape.

The printer writes ``Transpose(MatPartial(J, column))`` in numerator layout as the bare
fraction (a row), so no formula is typed here.
"""
from sympy import Transpose
from sympy.matrices.expressions import HadamardProduct, MatMul

from ..ir.nodes import MatPartial, Var
from ..ir.steps import Step
from ..printing.group_forms import Shorthand
from ..vocab import LOSS


def row(var):
    """The row derivative ∂J/∂(pre-activation) of δ's layer: the transpose of δ."""
    return Transpose(MatPartial(LOSS, Var("h", var.layer, *var.shape)))


def row_post(delta, weight):
    """∂J/∂z_{l−1} as a row, for the error δ_l and the weights W_l of the layer above."""
    return Transpose(MatPartial(LOSS, Var("z", delta.layer - 1, weight.shape[1],
                                          delta.shape[1])))


def _deltas(expr):
    return {a for a in expr.atoms(Var) if a.kind == "delta"}


def _name_rows(expr, extra):
    """δ_kᵀ → ∂J/∂h_k and δ_kᵀ W_k → ∂J/∂z_{k−1} (recorded in ``extra``)."""
    mapping = {}
    for m in expr.atoms(MatMul):
        args = m.args
        if len(args) == 2 and isinstance(args[0], Transpose) and args[0].arg in _deltas(expr) \
                and isinstance(args[1], Var) and args[1].kind in ("W", "Wbar"):
            delta, weight = args[0].arg, args[1]
            mapping[m] = row_post(delta, weight)
            extra.append((row_post(delta, weight), MatMul(row(delta), weight)))
    expr = expr.xreplace(mapping)
    return expr.xreplace({Transpose(v): row(v) for v in _deltas(expr)})


def transposed(lhs, rhs):
    """The row form of one column result, as rows (lhs, rhs): an error δ_l gives
    ∂J/∂z_l (when it is made from the layer above) and ∂J/∂h_l; a gradient with
    respect to a vector is transposed; a weight gradient keeps its shape, with δ_l
    written (∂J/∂h_l)ᵀ."""
    extra = []
    if _written(lhs, rhs):
        return [(lhs, rhs)]
    if _walked(rhs) or (isinstance(lhs, MatPartial) and lhs.wrt.kind in WALKED):
        return [_row_line(lhs, rhs)]
    if isinstance(lhs, Var) and lhs.kind == "delta":
        new = _name_rows(Transpose(rhs).doit(), extra)
        return extra + [(row(lhs), new)]
    if isinstance(lhs, MatPartial) and lhs.wrt.shape[1] == 1:
        return [(Transpose(lhs), _name_rows(Transpose(rhs).doit(), extra))]
    return [(lhs, rhs.xreplace({v: Transpose(row(v)) for v in _deltas(rhs)}))]


#: the cotangents and gradients a hidden block with the §1b options names: each is a
#: row, the transpose of its column, like the error
WALKED = ("z", "a", "hhat", "gamma", "beta")


def _walked(rhs):
    """A result written with the named cotangents of a block with options (∂J/∂z_l,
    ∂J/∂ĥ_l, …): it is transposed as written, its factors kept in their order, and a
    product δᵀ W stays as it is (its row name ∂J/∂z is the line's own left side)."""
    return bool(rhs.atoms(MatPartial))


def transpose_chain(lhs, rhs):
    """The printed rule for one error: the row ∂J/∂h_l is δ_lᵀ, then (the column
    form)ᵀ, then SymPy's transpose pushed inside, then the row derivatives named; for a
    named cotangent (∂J/∂z_l = W_{l+1}ᵀ δ_{l+1}) its row is (the column form)ᵀ, pushed
    inside, with δ_{l+1}ᵀ named ∂J/∂h_{l+1}."""
    pushed = Transpose(rhs).doit()
    if isinstance(lhs, MatPartial):     # a cotangent: the row is its transpose
        return [(Transpose(lhs), Transpose(rhs)), (None, pushed), (None, _row_line(lhs, rhs)[1])]
    return [(row(lhs), Transpose(lhs)), (None, Transpose(rhs)), (None, pushed),
            (None, _name_rows(pushed, []))]


def row_results(rows):
    """Every (lhs, rhs) result in its numerator-layout (row) form."""
    out = []
    for lhs, rhs in rows:
        out += transposed(lhs, rhs)
    return out


#: the sections whose errors and gradients the numerator layout writes as rows
ROW_SECTIONS = ("output", "hidden", "below", "general", "rest")


def row_steps(steps):
    """A section's steps in numerator layout: every matrix line of an error or of a
    derivative by a vector or matrix becomes its row form (`transposed`); index lines,
    forward and loss lines and the activation's derivative are the same in both
    layouts and stay as they are."""
    out = []
    for s in steps:
        lhs = s.lhs
        if s.form == "matrix" and not _written(lhs, s.rhs) and (isinstance(lhs, MatPartial) or
                                   (isinstance(lhs, Var) and lhs.kind == "delta")):
            s = Step(*_row_line(s.lhs, s.rhs), s.rule, s.layer, s.topic, s.form, s.group,
                     s.note)
        out.append(s)
    return out


def _written(lhs, rhs):
    """A line of the normalization's lecturer form (`derive.documents.norm_forms`): its
    group-wise quantities are columns in either layout, so it stays as written."""
    return isinstance(lhs, Shorthand) or isinstance(rhs, Shorthand)


def _row_line(lhs, rhs):
    """One derivation line as a row: like `transposed`, but each δ_kᵀ is only renamed
    ∂J/∂h_k (a product δ_kᵀ W_k stays, so a substitution line still shows what it
    substitutes), and an entrywise product keeps its factors in their order."""
    deltas = _deltas(rhs)
    if isinstance(lhs, MatPartial) and lhs.wrt.shape[1] != 1 and lhs.wrt.kind not in WALKED:
        # a matrix gradient (a layer quantity of a batch, one column per sample, is a row)
        return lhs, rhs.xreplace({v: Transpose(row(v)) for v in deltas})
    new = _transpose(rhs).xreplace({Transpose(v): row(v) for v in deltas})
    return (row(lhs) if isinstance(lhs, Var) else Transpose(lhs)), new


def _transpose(expr):
    if isinstance(expr, HadamardProduct):
        return HadamardProduct(*[_transpose(a) for a in expr.args])
    return Transpose(expr).doit()
