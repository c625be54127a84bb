"""Printers of the export's lines for the frameworks: PyTorch, JAX and the array API.

Each is the NumPy `ArrayPrinter` with the operations its library spells its own way:
the library's prefix (``torch.``, ``jnp.``, ``xp.``, the namespace the array-API module
takes from its inputs), reductions along an axis, casts of a boolean mask, a block of
ones, concatenation, and the few functions whose NumPy call the library lacks (PyTorch's
``maximum`` and ``logaddexp`` take no Python number; the array API has no ``heaviside``
and no ``where`` of two numbers). Everything else (the matrix algebra, σ and σ' from the
rule rows, the broadcasts of the ones matrices) is the NumPy printer's.

>>> from derive.ir.nodes import Var, Act
>>> TorchPrinter().doprint(Act("relu", Var("h", 1, 3, 1), 0))
'torch.clamp_min(h1, 0)'
>>> ArrayApiPrinter().reduce_code("delta2", 1)
'xp.sum(delta2, axis=1, keepdims=True)'
>>> JaxPrinter().doprint(Act("tanh", Var("h", 1, 3, 1), 0))
'jnp.tanh(h1)'
"""
from sympy import S, Symbol

from .numpy_code import ArrayPrinter


def _reference(expr):
    """The name of an array in ``expr`` whose dtype and device a constant takes."""
    names = sorted((s for s in expr.free_symbols if isinstance(s, Symbol)), key=str)
    return str(names[0]) if names else None


class _FrameworkPrinter(ArrayPrinter):
    """What PyTorch and the array API share: numbers made arrays of an input's dtype."""

    def constant_like(self, value, ref):
        raise NotImplementedError

    def _print_Piecewise(self, expr):
        if len(expr.args) == 2 and expr.args[1].cond == True:  # noqa: E712
            (a, cond), (b, _) = expr.args
            ref = _reference(cond)
            if a.is_number and b.is_number and ref is not None:
                # where(c, 1, 0.01) of two numbers: the first made a 0-d array of the
                # inputs' dtype, so float64 stays float64 (a default dtype would not)
                return (f"{self.fn('where')}({self._print(cond)}, "
                        f"{self.constant_like(self._print(a), ref)}, {self._print(b)})")
        return super()._print_Piecewise(expr)


class TorchPrinter(_FrameworkPrinter):
    """PyTorch tensors: ``dim=``/``keepdim=``, ``.to(dtype)``, ``torch.cat``."""

    module_alias = "torch"

    def reduce_code(self, text, axis, how="sum"):
        how = {"max": "amax"}.get(how, how)
        return f"{self._paren(text)}.{how}(dim={axis}, keepdim=True)"

    def cast_code(self, text, like):
        return f"{self._paren(text)}.to({like}.dtype)"

    def ones_code(self, rows, ref):
        return (f"torch.ones(({rows}, {ref}.shape[1]), dtype={ref}.dtype, "
                f"device={ref}.device)")

    def concat_code(self, parts):
        return f"torch.cat(({', '.join(parts)}), dim=0)"

    def constant_like(self, value, ref):
        return f"{ref}.new_full((), {value})"

    def _print_Max(self, expr):
        numbers = [a for a in expr.args if a.is_number]
        arrays = [a for a in expr.args if not a.is_number]
        if len(numbers) == 1 and len(arrays) == 1:   # max(x, c): torch.maximum wants tensors
            return f"torch.clamp_min({self._print(arrays[0])}, {self._print(numbers[0])})"
        return super()._print_Max(expr)

    def _print_logaddexp(self, expr):
        a, b = expr.args
        if S.Zero in (a, b):      # softplus(x) = max(x, 0) + log(1 + e^(−|x|)), exactly
            x = self._print(b if a == S.Zero else a)
            return (f"(torch.clamp_min({x}, 0) + torch.log1p(torch.exp(-torch.abs({x}))))")
        return f"torch.logaddexp({self._print(a)}, {self._print(b)})"

    def _print_Heaviside(self, expr):
        h0 = expr.args[1] if len(expr.args) > 1 else S.Half
        arg = self._print(expr.args[0])
        if h0 == 0 and arg.isidentifier():
            return self.cast_code(f"({arg} > 0)", arg)
        return f"torch.heaviside({arg}, {self.constant_like(self._print(h0), self._paren(arg))})"


class JaxPrinter(ArrayPrinter):
    """``jax.numpy``: NumPy's names and methods, so only the prefix changes."""

    module_alias = "jnp"


class ArrayApiPrinter(_FrameworkPrinter):
    """The array API standard: functions of the namespace ``xp`` rather than methods."""

    module_alias = "xp"

    def reduce_code(self, text, axis, how="sum"):
        return f"xp.{how}({text}, axis={axis}, keepdims=True)"

    def cast_code(self, text, like):
        return f"xp.astype({text}, {like}.dtype)"

    def mask_code(self, text):
        # the standard multiplies no boolean array by a float one: cast the mask first
        return self.cast_code(f"{text} > 0", self._paren(text))

    def ones_code(self, rows, ref):
        return f"xp.ones(({rows}, {ref}.shape[1]), dtype={ref}.dtype, device=_device({ref}))"

    def concat_code(self, parts):
        return f"xp.concat(({', '.join(parts)}), axis=0)"

    def constant_like(self, value, ref):
        return f"xp.asarray({value}, dtype={ref}.dtype, device=_device({ref}))"

    def _print_Heaviside(self, expr):
        h0 = expr.args[1] if len(expr.args) > 1 else S.Half
        arg = self._print(expr.args[0])
        step = self.cast_code(f"{arg} > 0", self._paren(arg))
        if h0 == 0:
            return step
        ties = self.cast_code(f"{arg} == 0", self._paren(arg))
        return f"({step} + {self._print(h0)} * {ties})"


#: the printer of each export target
PRINTERS = {"numpy": ArrayPrinter, "torch": TorchPrinter, "jax": JaxPrinter,
            "array_api": ArrayApiPrinter}

__all__ = ["ArrayApiPrinter", "JaxPrinter", "PRINTERS", "TorchPrinter"]
