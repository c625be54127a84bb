"""Shapes under the factors (the ``shapes`` setting of `NotesLatexPrinter`, ``--shapes``):
each matrix factor of a product or an entrywise product gets its rows × columns written
under it, so a reader can follow the dimensions of δ_l z_{l−1}ᵀ or Wᵀδ ⊙ σ'(h).

>>> from derive.ir.nodes import Var
>>> from derive.printing.latex import latex
>>> from derive.vocab import WIDTH
>>> latex(Var("W", 2, WIDTH[2], WIDTH[1]) * Var("z", 1, WIDTH[1], 1), shapes=True)
'\\\\underset{n_{2} \\\\times n_{1}}{W_{2}} \\\\underset{n_{1} \\\\times 1}{\\\\mathbf{z}_{1}}'
"""


class ShapeLatex:
    """The printer method that writes a factor's shape under it (a mixin)."""

    def shaped(self, expr, text):
        """``text`` (the printed ``expr``) with its shape under it when the setting is
        on and ``expr`` is a matrix other than a ones block."""
        if not self._settings.get("shapes") or not getattr(expr, "is_Matrix", False) or \
                type(expr).__name__ == "OneMatrix":
            return text
        rows, cols = (self._print(s) for s in expr.shape)
        return rf"\underset{{{rows} \times {cols}}}{{{text}}}"
