"""The LaTeX of weight decay's penalty (`derive.engine.layers.decayed_loss`), mixed into
`derive.printing.latex.NotesLatexPrinter`: the data loss J_data, tr(Aᵀ A) as the
squared Frobenius norm ‖A‖_F², the sum over the layers written outermost, and the
penalty's constant λ/2 as a fraction in front of its sum.

>>> from sympy import Sum, Trace, Transpose
>>> from derive.ir.nodes import Var
>>> from derive.printing.latex import latex
>>> from derive.vocab import DATA_LOSS, LAMBDA, LAYER_SUM
>>> W = Var("W", LAYER_SUM, 2, 2)
>>> latex(DATA_LOSS + LAMBDA / 2 * Sum(Trace(Transpose(W) * W), (LAYER_SUM, 1, 3)))
'J_{\\\\text{data}} + \\\\frac{\\\\lambda}{2} \\\\sum_{l=1}^{3} \\\\lVert W_{l} \\\\rVert_{F}^{2}'
"""
from sympy import Add, MatMul, Sum, Trace, Transpose

from ..vocab import LAMBDA, LAYER_SUM


def is_penalty(expr):
    """A product of λ and the decay penalty: a sum over the layers or a Frobenius norm
    (λ a factor of the product is checked first: most products are not the penalty)."""
    return LAMBDA in expr.args and (expr.has(Trace) or any(
        isinstance(e, Sum) and e.limits[-1][0] == LAYER_SUM for e in expr.atoms(Sum)))


class PenaltyLatex:
    """The printer methods of the penalty's pieces (a mixin of a LatexPrinter)."""

    def data_loss_tex(self):
        """The data loss: the notation's loss letter with the subscript "data"."""
        loss = self.nt.loss
        base = "{" + loss + "}" if any(c in loss for c in "_^") else loss
        return base + r"_{\text{data}}"

    def _print_Trace(self, expr):
        arg = expr.arg
        if isinstance(arg, MatMul) and len(arg.args) == 2 and \
                arg.args[0] == Transpose(arg.args[1]):
            return rf"\lVert {self._print(arg.args[1])} \rVert_{{F}}^{{2}}"
        return rf"\operatorname{{tr}}\left({self._print(arg)}\right)"

    def penalty_tex(self, expr):
        """(λ/2) Σ_l ‖W_l‖_F²: the constant factor as a fraction in front of the sum."""
        const, rest = expr.as_independent(Sum, Trace, as_Add=False)
        text = self._print(rest)
        if isinstance(rest, Add):
            text = rf"\left({text}\right)"
        return rf"{self._print(const)} {text}"

    def layer_sum_tex(self, expr):
        """Σ over the layers outermost (SymPy keeps it as the last limit of one Sum);
        None for any other sum."""
        if len(expr.limits) < 2 or expr.limits[-1][0] != LAYER_SUM:
            return None
        var, lo, hi = expr.limits[-1]
        inner = self._print(Sum(expr.function, *expr.limits[:-1]))
        return rf"\sum_{{{self._print(var)}={self._print(lo)}}}^{{{self._print(hi)}}} {inner}"
