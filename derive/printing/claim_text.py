"""Our network matrix expressions printed in the claim syntax (plain and LaTeX), so
that a correct form can be pasted back into `verify`, and shapes as the verdicts
write them.

>>> from derive.ir.nodes import Var
>>> to_claim(Var("W", 3, 2, 4).T * Var("delta", 3, 2, 1))
'W_3^T delta_3'
>>> shape_text((Var("W", 3, 2, 4).shape[0], 4))
'2×4'
"""
import re

from sympy import OneMatrix
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd, MatMul, Transpose
from sympy.matrices.expressions.diagonal import DiagMatrix

from ..ir.nodes import Act, Var


def dim(value):
    def one(match):
        inner = match.group(1).replace(" ", "")
        return f"n_{inner}" if len(inner) == 1 else f"n_{{{inner}}}"
    return re.sub(r"n\[([^\]]*)\]", one, str(value)).replace(" ", "")


def shape_text(shape):
    a, b = (dim(x) for x in shape)
    return "×".join(f"({d})" if "+" in d or "-" in d.replace("_{", "").split("}")[-1]
                    else d for d in (a, b))


TEXT = {"had": " ⊙ ", "T": "^T", "x": "x", "delta": "delta", "prime": "'", "one": "1"}
LATEX = {"had": " \\odot ", "T": "^\\top", "x": "x", "delta": "\\delta", "prime": "'",
         "one": "1"}
LETTERS = {"hz": {}, "gh": {"h": "g", "z": "h"}, "pq": {"h": "p", "z": "q"},
           "za": {"h": "z", "z": "a"}}


def _width(match):
    return "n_{%s}" % match.group(1).replace(" ", "")


def _layer(value):
    text = str(value).replace(" ", "")
    return text if len(text) == 1 else "{" + text + "}"


class _Printer:
    def __init__(self, table, notation, latex):
        self.t, self.letters, self.latex = table, LETTERS.get(notation, {}), latex
        self.mark = "^" if notation in ("gh", "za") else "_"

    def atomic(self, e):
        return isinstance(e, (Var, Act, OneMatrix)) or (
            isinstance(e, Transpose) and isinstance(e.arg, Var))

    def wrap(self, e):
        return self.p(e) if self.atomic(e) else f"({self.p(e)})"

    def p(self, e):
        if isinstance(e, Var):
            if e.kind == "y":
                return "y"
            if e.kind == "z" and e.layer == 0:
                return self.t["x"]
            name = self.t["delta"] if e.kind == "delta" else self.letters.get(e.kind, e.kind)
            return f"{name}{self.mark}{_layer(e.layer)}"
        if isinstance(e, Transpose):
            return self.wrap(e.arg) + self.t["T"]
        if isinstance(e, OneMatrix):
            return self.t["one"]
        if isinstance(e, Act):
            name = e.name
            if self.latex:
                name = "\\sigma" if name == "sigmoid" else f"\\operatorname{{{name}}}"
            return f"{name}{self.t['prime'] * e.order}({self.p(e.arg)})"
        if isinstance(e, DiagMatrix):
            name = "\\operatorname{diag}" if self.latex else "diag"
            return f"{name}({self.p(e.args[0])})"
        if isinstance(e, HadamardPower):
            return f"{self.wrap(e.base)}^{{{e.exp}}}"
        if isinstance(e, HadamardProduct):
            return self.t["had"].join(self.wrap(a) for a in e.args)
        if isinstance(e, MatMul):
            coeff, mats = e.as_coeff_matrices()
            body = " ".join(self.wrap(a) for a in mats)
            if coeff == 1:
                return body
            if coeff == -1:
                return "-" + body
            return f"{self.scalar(coeff)} {body}"
        if isinstance(e, MatAdd):
            terms = sorted(e.args, key=lambda a: self.negative(a))
            out = self.p(terms[0])
            for a in terms[1:]:
                out += f" - {self.p(-a)}" if self.negative(a) else f" + {self.p(a)}"
            return out
        return self.scalar(e)

    @staticmethod
    def negative(e):
        return isinstance(e, MatMul) and e.as_coeff_matrices()[0].could_extract_minus_sign()

    def scalar(self, c):
        if self.latex and c.is_Rational and not c.is_Integer:
            return f"\\frac{{{c.p}}}{{{c.q}}}"
        if c.is_Integer and c >= 0:
            return str(c)
        text = str(c).replace("**", "^").replace("*", " ")
        return "(" + re.sub(r"n\[([^\]]*)\]", _width, text) + ")"


def to_claim(expr, notation="hz"):
    """Our matrix expression in the plain claim syntax (parseable by `claims.parse`)."""
    return _Printer(TEXT, notation, False).p(expr)


def to_latex(expr, notation="hz"):
    """Our matrix expression in the LaTeX claim syntax."""
    return _Printer(LATEX, notation, True).p(expr)
