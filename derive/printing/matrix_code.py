"""Printers of the catalogue's matrix expressions as array code, one per export target.

A catalogue derivation (``matrix_derivative``) holds SymPy matrix expressions over
`MatrixSymbol`s with the nodes of `derive.ir.matrix_nodes`: an elementwise function
`Elem`, a 1×1 matrix used as a number `AsScalar`, the squared norm `SqNorm`, and SymPy's
trace, determinant, inverse and identity. `MatrixCodeMixin` prints those on top of a
target's array printer (`derive.printing.framework_code`); the identity takes the dtype
(and device) of the array named by the setting ``ref``.

>>> from sympy import MatrixSymbol, Symbol
>>> from derive.ir.matrix_nodes import Elem
>>> A = MatrixSymbol("A", Symbol("m"), Symbol("n"))
>>> MATRIX_PRINTERS["torch"](dict(ref="A")).doprint(Elem("tanh", A, 1))
'1 - (torch.tanh(A))**2'
"""
import re

from sympy import Identity

from ..errors import SpecError
from ..ir.matrix_nodes import BUILTIN, scalar_function
from ..spec import rules
from .framework_code import ArrayApiPrinter, JaxPrinter, TorchPrinter
from .numpy_code import ArrayPrinter, Code


def symbol_name(name):
    """The Python name of a catalogue variable: ``W_{01}`` → ``W_01``."""
    return re.sub(r"\W", "_", name.replace("{", "").replace("}", ""))


class MatrixCodeMixin:
    """The catalogue's nodes, for any of the array printers."""

    _default_settings = dict(ArrayPrinter._default_settings, ref="A")

    # the linear algebra each library names its own way (a target's class overrides)
    def eye_code(self, n):
        return f"{self.fn('eye')}({n}, dtype={self._settings['ref']}.dtype)"

    def linalg_code(self, name, text):
        """trace, det or inv of the matrix ``text``."""
        if name == "trace":
            return f"{self.fn('trace')}({text})"
        return f"{self.module_alias}.linalg.{name}({text})"

    def _print_MatrixSymbol(self, expr):
        return symbol_name(expr.name)

    def _print_Identity(self, expr):
        return self.eye_code(self._print(expr.shape[0]))

    def _print_MatMul(self, expr):
        coeff, mats = expr.as_coeff_matrices()
        if len(mats) == 1 and isinstance(mats[0], Identity):    # c I: a full identity
            return f"({self._print(coeff)}) * {self._print(mats[0])}"
        return super()._print_MatMul(expr)

    def _print_Trace(self, expr):
        return self.linalg_code("trace", self._print(expr.arg))

    def _print_Determinant(self, expr):
        return self.linalg_code("det", self._print(expr.arg))

    def _print_Inverse(self, expr):
        return self.linalg_code("inv", self._print(expr.arg))

    def _print_AsScalar(self, expr):
        return f"{self._paren(self._print(expr.matrix))}[0, 0]"

    def _print_SqNorm(self, expr):
        return f"{self.fn('sum')}({self._wrap(expr.arg)}**2)"

    def _print_Elem(self, expr):
        arg = Code(self._paren(self._print(expr.arg)))
        if expr.name in BUILTIN:
            return self._print(scalar_function(expr.name, expr.order)(arg))
        if expr.name == "sigmoid" and expr.order <= 1:
            row = rules.activation("sigmoid")
            value = row.stable_forward().xreplace({rules.x: arg})
            if expr.order == 0:
                return self._print(value)
            return self._print(row.derivative_out.xreplace(
                {rules.u: Code(self._paren(self._print(value)))}))
        raise SpecError(f"{expr.name} is a generic function with no formula to compute; "
                        "the export needs sigmoid, tanh, exp, log or sqrt")


class NumpyMatrixPrinter(MatrixCodeMixin, ArrayPrinter):
    """The catalogue's expressions as NumPy code."""


class TorchMatrixPrinter(MatrixCodeMixin, TorchPrinter):
    """… as PyTorch code: the identity on the device of ``ref``."""

    def eye_code(self, n):
        ref = self._settings["ref"]
        return f"torch.eye({n}, dtype={ref}.dtype, device={ref}.device)"


class JaxMatrixPrinter(MatrixCodeMixin, JaxPrinter):
    """… as ``jax.numpy`` code."""


class ArrayApiMatrixPrinter(MatrixCodeMixin, ArrayApiPrinter):
    """… as array-API code: the trace is in the linalg extension."""

    def eye_code(self, n):
        ref = self._settings["ref"]
        return f"xp.eye({n}, dtype={ref}.dtype, device=_device({ref}))"

    def linalg_code(self, name, text):
        return f"xp.linalg.{name}({text})"


#: the catalogue printer of each export target
MATRIX_PRINTERS = {"numpy": NumpyMatrixPrinter, "torch": TorchMatrixPrinter,
                   "jax": JaxMatrixPrinter, "array_api": ArrayApiMatrixPrinter}

__all__ = ["MATRIX_PRINTERS", "MatrixCodeMixin", "symbol_name"]
