"""The network half of the claim printer (`derive.printing.claim_text.ClaimPrinter`):
layer quantities in a notation's letters, activations, the network's scalars (ε, λ, m,
widths n_l) and the ones vectors of a normalization, each printed so that
`derive.claims.grammar` reads it back (SPEC §3).

The ones: a ones matrix first or last in a product is written with the vector 1 the
grammar spreads to the length its partner asks for, ``1 (r)`` (a row r spread down),
``1 (1^T X)`` (the n×n ones), ``(c) 1^T`` (a column spread across), ``((X) 1) 1^T``;
in a sum, c·1 is the scalar c (``var_2 + epsilon``).

>>> from sympy import MatMul, OneMatrix
>>> from derive.ir.nodes import Var
>>> from derive.printing.claim_text import to_claim
>>> to_claim(MatMul(Var("gamma", 2, 3, 1), OneMatrix(1, 4)))
'gamma_2 1^T'
>>> to_claim(MatMul(OneMatrix(3, 3), Var("h", 2, 3, 1)))
'1 (1^T h_2)'
"""
import re

from sympy import Identity, Indexed, Integer, OneMatrix, Symbol
from sympy.matrices.expressions import MatMul

#: the network's scalar constants, by name, in LaTeX
CONSTANT_TEX = {"epsilon": "\\epsilon", "lambda": "\\lambda", "m": "m"}
#: activations the LaTeX claim syntax writes as a command of their own
ACT_TEX = {"exp": "\\exp", "log": "\\log", "tanh": "\\tanh"}


def _width(match):
    return "n_{%s}" % match.group(1).replace(" ", "")


def _width_text(n):
    """The width n_l as a claim writes it: n_2, n_l, n_{L-1}."""
    return "n_" + _layer(n.indices[0])


def _layer(value):
    text = str(value).replace(" ", "")
    return text if len(text) == 1 else "{" + text + "}"


def _filled(term):
    """The scalar c of a term c·1 (a ones matrix, or the 1×1 identity), else None."""
    if isinstance(term, OneMatrix) or term == Identity(1):
        return Integer(1)
    if isinstance(term, MatMul):
        coeff, mats = term.as_coeff_matrices()
        if len(mats) == 1 and (isinstance(mats[0], OneMatrix) or mats[0] == Identity(1)):
            return coeff
    return None


class NetworkNames:
    """`ClaimPrinter`'s methods for a network's nodes (mixed in before StrPrinter)."""

    def _ones_product(self, mats):
        """A product with a ones matrix first or last, as the grammar reads it: 1 (r) for
        a ones column under a row r, 1 (1^T X) for the n×n ones, (c) 1^T beside a column
        c, ((X) 1) 1^T for the m×m ones; None for any other product (X 1 is as is)."""
        if len(mats) < 2:
            return None
        ones_t = self.t["ones"] + self.t["T"]
        first, last = mats[0], mats[-1]
        if isinstance(first, OneMatrix):
            rest = self._product_text(mats[1:])
            if first.shape[1] != 1:
                rest = f"({ones_t} {rest})"
            return f"{self.t['ones']} {rest}"
        if isinstance(last, OneMatrix) and last.shape[1] != 1:
            rest = self._product_text(mats[:-1])
            if last.shape[0] != 1:
                rest = f"({rest} {self.t['ones']})"
            return f"{rest} {ones_t}"
        return None

    def _product_text(self, mats):
        """A product's factors as one factor: an atom, or in brackets."""
        return self._wrap(mats[0]) if len(mats) == 1 else f"({self._print(MatMul(*mats))})"

    def _constant_term(self, t):
        """A term ε·1 of a network sum (printed last, as ε: v_l + ε)."""
        c = _filled(t) if self.policy == "network" else None
        return c is not None and not c.is_number

    def _term(self, t):
        """One term of a sum; in a network sum c·1 is the scalar c (the grammar reads a
        scalar beside a matrix as that many ones)."""
        c = _filled(t) if self.policy == "network" else None
        return self._print(t) if c is None else self._network_scalar(c)

    def _print_Var(self, e):
        if e.kind == "y":
            return "y"
        if e.kind == "z" and e.layer == 0:
            return self.t["x"]
        name = self.t["delta"] if e.kind == "delta" else self.letters.get(e.kind, e.kind)
        return f"{name}{self.mark}{_layer(e.layer)}"

    def _print_Act(self, e):
        name = e.name
        if self._settings["latex"]:     # \tanh, \exp, \log: commands the grammar reads
            name = "\\sigma" if name == "sigmoid" else ACT_TEX.get(name) if name in ACT_TEX \
                else "\\operatorname{%s}" % name.replace("_", "\\_")
        return f"{name}{self.t['prime'] * e.order}({self._print(e.arg)})"

    def _print_DiagMatrix(self, e):
        name = "\\operatorname{diag}" if self._settings["latex"] else "diag"
        return f"{name}({self._print(e.args[0])})"

    def _print_MatPartial(self, e):
        """A named cotangent, dJ/dz_l, dJ/da_l, dJ/dhhat_l (the grammar reads it back)."""
        if getattr(e.wrt, "kind", None) not in ("z", "a", "hhat"):
            raise ValueError(f"no claim syntax for {e}")
        return f"dJ/d{self._print(e.wrt)}"     # LaTeX alike: it compiles and reads back

    def _network_scalar(self, c):
        if isinstance(c, Symbol):                      # epsilon, lambda, m
            return CONSTANT_TEX.get(c.name, c.name) if self._settings["latex"] else c.name
        if isinstance(c, Indexed):                     # a width n_l
            return _width_text(c)
        if self._settings["latex"] and c.is_Rational and not c.is_Integer:
            return f"\\frac{{{c.p}}}{{{c.q}}}"
        if c.is_Integer and c >= 0:
            return str(c)
        text = str(c).replace("**", "^").replace("*", " ")
        return "(" + re.sub(r"n\[([^\]]*)\]", _width, text) + ")"
