"""A plain-text view of a derivation for the terminal (`derive` with no arguments
prints the δ-recursion of the default network until the gallery is built), and the
comments of the exported code (`code_text`: the ones vectors that only broadcast a
column or a row are left out, as NumPy broadcasts them).

>>> from sympy import HadamardPower, MatAdd, MatMul, OneMatrix, Symbol
>>> from derive.ir.nodes import Var
>>> m, eps = Symbol("m"), Symbol("epsilon", positive=True)
>>> v_eps = MatAdd(MatMul(eps, OneMatrix(1, m)), Var("var", 3, 1, m))
>>> root = MatMul(OneMatrix(4, 1), HadamardPower(v_eps, -S.Half))
>>> text(root), code_text(root)
('1 1 ⊘ sqrt(ε 1 + v_3)', '1 ⊘ sqrt(v_3 + ε)')
"""
from sympy import S, StrPrinter
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd, MatMul, OneMatrix

from ..ir.quantities import KINDS
from ..vocab import EPSILON, LAMBDA, WIDTH

#: the Greek and hatted names of the §1b layer quantities and constants
NAMES = {name: row.text for name, row in KINDS.items() if row.text != name}


class TextPrinter(StrPrinter):
    """SymPy's str printer with ⊙, ᵀ and σ' written the way the notes write them."""

    printmethod = "_textprint"
    #: ``broadcast=False`` leaves out the ones that only broadcast (1 μ is μ, γ 1 is γ)
    _default_settings = dict(StrPrinter._default_settings, broadcast=True)

    def _wrap(self, arg):
        text = self._print(arg)
        if isinstance(arg, MatMul) and self._bare(arg) is not None:
            return self._wrap(self._bare(arg))
        if isinstance(arg, HadamardPower) and arg.exp.is_negative:   # 1 ⊘ …
            return f"({text})"
        return f"({text})" if isinstance(arg, (MatAdd, MatMul, HadamardProduct)) else text

    def _bare(self, expr):
        """X of 1 X or X 1 (a column or row of ones that only broadcasts), or the scalar
        c of c 1, where the ones are left out; else None."""
        if self._settings["broadcast"] or not isinstance(expr, MatMul):
            return None
        coeff, mats = expr.as_coeff_matrices()
        if mats and all(isinstance(m, OneMatrix) for m in mats) and coeff != 1:
            return coeff
        if coeff != 1 or len(mats) != 2:
            return None
        first, last = mats
        if isinstance(first, OneMatrix) and first.shape[1] == 1 and last.shape[0] == 1:
            return last
        if isinstance(last, OneMatrix) and last.shape[0] == 1 and first.shape[1] == 1:
            return first
        return None

    def _print_MatAdd(self, expr):
        plus, minus = [], []
        terms = expr.args
        if not self._settings["broadcast"]:     # the broadcast column or scalar last
            terms = sorted(terms, key=lambda t: self._bare(t) is not None)
        for term in terms:
            coeff, rest = term.as_coeff_mmul()
            if coeff.is_number and coeff < 0 or \
                    (not self._settings["broadcast"] and coeff.could_extract_minus_sign()):
                minus.append(self._print(-term) if coeff != -1 else self._print(rest))
            else:
                plus.append(self._print(term))
        out = " + ".join(plus) if plus else ""
        for m in minus:
            out = f"{out} − {m}" if out else f"−{m}"
        return out

    def _print_HadamardProduct(self, expr):
        return " ⊙ ".join(self._wrap(a) for a in expr.args)

    def _print_HadamardPower(self, expr):
        base = self.parenthesize(expr.base, 60)
        if expr.exp == -1:
            return f"1 ⊘ {base}"
        if expr.exp == -S.Half:
            return f"1 ⊘ sqrt({self._print(expr.base)})"
        return f"{base}^∘{expr.exp}"

    def _print_Transpose(self, expr):
        return self.parenthesize(expr.arg, 60) + "ᵀ"

    def _print_MatMul(self, expr):
        bare = self._bare(expr)
        if bare is not None:
            return self._print(bare)
        return " ".join(self.parenthesize(a, 50) for a in expr.args)

    def _print_OneMatrix(self, expr):
        if self._settings["broadcast"] or expr.shape[0] == 1 and expr.shape[1] == 1:
            return "1"
        rows, cols = expr.shape    # a row of ones sums columns; 1 1ᵀ, sums spread down
        return "1" if cols == 1 else "1ᵀ" if rows == 1 else "1 1ᵀ"

    def _print_Trace(self, expr):    # tr(Aᵀ A) = ‖A‖_F², the penalty's form
        arg = expr.arg
        if isinstance(arg, MatMul) and len(arg.args) == 2 and arg.args[0] == arg.args[1].T:
            return f"‖{self._print(arg.args[1])}‖_F²"
        return f"tr({self._print(arg)})"

    def _print_Identity(self, expr):
        return "1" if expr.shape == (1, 1) else "I"

    def _print_Indexed(self, expr):
        if expr.base == WIDTH:
            return f"n_{self._print(expr.indices[0])}"
        return super()._print_Indexed(expr)

    def _print_Symbol(self, expr):
        return {EPSILON: "ε", LAMBDA: "λ"}.get(expr, None) or super()._print_Symbol(expr)

    def _print_Act(self, expr):
        name = "σ" if expr.name == "sigmoid" else expr.name
        return f"{name}{chr(39) * expr.order}({self._print(expr.arg)})"

    def _print_Var(self, expr):
        kind = NAMES.get(expr.kind, expr.kind)
        if expr.kind == "y":
            return "y"
        if expr.kind == "z" and expr.layer == 0:
            return "x"
        layer = str(expr.layer).replace(" ", "")
        return f"{kind}_{layer}" if expr.layer.is_Atom else f"{kind}_{{{layer}}}"

    def _print_MatPartial(self, expr):
        return f"∂{self._print(expr.num)}/∂{self._print(expr.wrt)}"


def text(expr):
    return TextPrinter(dict(order="none")).doprint(expr)


def code_text(expr):
    """The text of ``expr`` for a code comment: ones that only broadcast left out."""
    return TextPrinter(dict(order="none", broadcast=False)).doprint(expr)


def recursion_text(d):
    """The δ-recursion and gradients, one equation per line, last layer first (a network
    of calls: its cotangents in the order its walk names them, then its gradients)."""
    lines = [f"Backpropagation for {d.net.describe()}"]
    pairs = d.summary() if hasattr(d, "summary") else \
        [(s.lhs, s.rhs) for s in d.steps if s.form == "matrix"]   # a network of calls
    for lhs, rhs in pairs:
        lines.append(f"  {text(lhs)} = {text(rhs)}")
    for note in getattr(d, "assumptions", ()):
        lines.append(f"  (assuming {note})")
    return "\n".join(lines)
