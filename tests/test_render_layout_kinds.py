"""gh's row layout (SPEC §4, numerator layout) for networks with the §1b options: the
named cotangents ∂J/∂z_l, ∂J/∂a_l, ∂J/∂ĥ_l, the errors and the gradients of γ_l and β_l
are rows, the transposes of their columns, in the derivation sections and in the
summary alike; a weight gradient keeps its shape. Oracle: every printed row equation
and its column equation evaluated at one random point (the same values for the same
atoms), the row must be the transpose of the column (a weight gradient the same matrix).

The networks: every walked hidden block (residual, norm, dropout) in both batch modes
(the shapes the rows transpose), weight decay and bias taking turns over a pairwise cover
of the option table of test_render_kinds (every pair of values of two options once at
least), not its full product.
"""
import itertools

import numpy
import pytest
from pairwise import missing_pairs, pairwise
from sympy import Identity, Integer, OneMatrix, Transpose
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd, MatMul
from test_render_kinds import COMBOS

from derive import Network, backprop
from derive.documents.norm_forms import letters, short_rows
from derive.documents.notes import context
from derive.documents.rows import ROW_SECTIONS, row, row_results, row_steps
from derive.documents.sections import kind_results
from derive.ir.nodes import Act, MatPartial, Var
from derive.printing.latex import NotesLatexPrinter
from derive.printing.notation import get as get_notation
from derive.vocab import BATCH, EPSILON, LAMBDA, LOSS

WIDTHS = (2, 3, 3, 2)
SAMPLES = 2
#: (residual, norm, dropout, weight decay, bias, batch), as in test_render_kinds
FACTORS = ((False, True), ("none", "layer", "batch"), (False, True), (False, True),
           ("none", "explicit"), (False, True))


def _walked(c):
    """A walked hidden block (weight decay alone is plain), batch norm with a batch."""
    return (c[0] or c[1] != "none" or c[2]) and not (c[1] == "batch" and not c[5])


#: the option combinations with a walked hidden block: each block key in each batch mode
WALKED = pairwise(FACTORS, keep=(0, 1, 2, 5), allowed=_walked)


def test_the_networks_cover_every_block_and_every_pair_of_options():
    assert set(WALKED) <= set(COMBOS)
    assert missing_pairs(WALKED, FACTORS, _walked) == set()
    blocks = {(c[0], c[1], c[2], c[5]) for c in COMBOS if _walked(c)}
    assert {(c[0], c[1], c[2], c[5]) for c in WALKED} == blocks
    assert len(set(itertools.product(*FACTORS))) == 96 and len(WALKED) < 20


def _net(combo):
    residual, norm, dropout, decay, bias, batch = combo
    return Network(activations=("tanh",) * 3, loss="mse", widths=WIDTHS, residual=residual,
                   norm=norm, dropout=dropout, weight_decay=decay, bias=bias, batch=batch)


def _fixed(expr):
    return expr.xreplace({BATCH: Integer(SAMPLES)})


class _Point:
    """One random value per atom (a layer quantity, an activation's derivative, a named
    cotangent); ∂J/∂h_l is δ_l. Positive entries, so that sqrt(v + ε) is real."""

    def __init__(self, seed):
        self.rng, self.values = numpy.random.default_rng(seed), {EPSILON: 0.1, LAMBDA: 0.3}

    def _random(self, shape):
        return self.rng.uniform(0.2, 1.2, size=tuple(int(d) for d in shape)).round(3)

    def __call__(self, expr):
        expr = _fixed(expr)
        for a in sorted(expr.atoms(Var, Act, MatPartial), key=str):
            if a in self.values:
                continue
            if isinstance(a, MatPartial) and a.wrt.kind == "h":
                delta = Var("delta", a.wrt.layer, *a.wrt.shape)
                self.values.setdefault(delta, self._random(delta.shape))
                self.values[a] = self.values[delta]
            else:
                self.values[a] = self._random(a.shape)
                if isinstance(a, Var) and a.kind == "delta":
                    self.values[MatPartial(LOSS, Var("h", a.layer, *a.shape))] = self.values[a]
        return numpy.atleast_2d(self._eval(expr))

    def _eval(self, e):
        """``e`` in NumPy floats: the atoms from the point, each matrix node its operation."""
        if e in self.values:
            return self.values[e]
        if isinstance(e, OneMatrix):
            return numpy.ones((int(e.shape[0]), int(e.shape[1])))
        if isinstance(e, Identity):
            return numpy.eye(int(e.shape[0]))
        if not getattr(e, "is_Matrix", False):
            return float(e.xreplace(self.values))
        args = [self._eval(a) for a in e.args]
        if isinstance(e, MatMul):
            out = args[0]
            for a in args[1:]:
                out = out * a if numpy.ndim(out) == 0 or numpy.ndim(a) == 0 else out @ a
            return out
        if isinstance(e, MatAdd):
            return sum(args[1:], args[0])
        if isinstance(e, HadamardProduct):
            return numpy.prod(args, axis=0)
        if isinstance(e, HadamardPower):
            return args[0] ** args[1]
        if isinstance(e, Transpose):
            return numpy.transpose(args[0])
        raise TypeError(f"no NumPy rule for {type(e).__name__}")


def _close(a, b):
    return a.shape == b.shape and numpy.max(numpy.abs(a - b)) < 1e-9


def _check(col_lhs, col_rhs, row_lhs, row_rhs, point):
    """The row line is the column line transposed (a weight gradient: the same)."""
    c, r = point(col_rhs), point(row_rhs)
    if isinstance(col_lhs, MatPartial) and col_lhs.wrt.kind in ("W", "Wbar"):
        assert row_lhs == col_lhs and _close(r, c), col_lhs
        return
    assert _close(r, c.T), col_lhs
    expected = row(col_lhs) if isinstance(col_lhs, Var) else Transpose(col_lhs)
    assert row_lhs == expected


def _derivation_steps(d):
    return [s for s in d.steps if s.form == "matrix" and s.topic not in ("forward", "general",
                                                                         "update", "loss")
            and (isinstance(s.lhs, MatPartial) or getattr(s.lhs, "kind", "") == "delta")]


@pytest.mark.parametrize("combo", WALKED, ids=lambda c: "-".join(map(str, c)))
def test_gh_rows_are_the_transposed_columns(combo):
    d = backprop(_net(combo))
    point = _Point(7)
    steps = _derivation_steps(d)
    rows = row_steps(steps)
    for col, new in zip(steps, rows):
        _check(col.lhs, col.rhs, new.lhs, new.rhs, point)
    columns = kind_results(d)
    for lhs, rhs in columns:
        transposed = row_results([(lhs, rhs)])
        assert len(transposed) == 1, lhs       # no extra rows: ∂J/∂z_l has its own line
        _check(lhs, rhs, *transposed[0], point)
    # the document prints exactly these rows: the summary (a normalized layer's error
    # in the lecturer's form, whose group-wise lines are columns in either layout), and
    # every derivation line
    p = NotesLatexPrinter(dict(notation=get_notation("gh"), depth=Integer(d.net.depth),
                               human=True, indicator=r"\mathbb{1}"))
    ctx = context(d, "gh")
    written = short_rows(columns, letters(get_notation("gh"), d.net))
    assert [(r["lhs"], r["rhs"]) for r in ctx["summary"]] == [
        (p.doprint(a), p.doprint(b)) for a, b in row_results(written)]
    printed = {p.doprint(s.rhs) for s in rows}
    column_only = {p.doprint(s.rhs) for s in steps} - printed
    shown = [line["rhs"] for name in ROW_SECTIONS for b in ctx["sections"][name]
             for line in b["lines"]]
    assert not column_only & set(shown)
