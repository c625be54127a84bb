"""The NumPy printer of a network of calls (SPEC §1c): the `ArrayPrinter` with every
quantity named by the quantity table (``K1``, ``H1``, ``Z0``, ``z3``, ``Y``), an
activation read from any quantity, a softmax over columns, and the matrix nodes of a
convolution (`derive.ir.conv`) as whole-array NumPy code: windows through
``sliding_window_view`` contracted by ``tensordot`` (no Python loop over positions).

Sizes are concrete here (the exporter writes every expression at the network's sizes).
A kernel K_l is an array of shape (C_l, C_{l-1}, κ), PyTorch's layout, so a kernel's
three indices are three axes; a max pooling's one-hot mask S_l is (C_l, N_l p).

>>> from derive.ir.conv import Corr, Flip, Pad
>>> from derive.ir.nodes import Var
>>> K, Z = Var("K", 1, 2, 6), Var("zc", 0, 3, 5)
>>> GraphPrinter().doprint(Corr(Z, K, 2))
'np.tensordot(K1, _windows(Z0, 2, axis=1), axes=((1, 2), (0, 2)))'
>>> G = Var("hc", 1, 2, 4)
>>> GraphPrinter().doprint(Flip(K, 2)), GraphPrinter().doprint(Pad(G, 1))
('np.flip(K1, axis=2).transpose(1, 0, 2)', 'np.pad(H1, ((0, 0), (1, 1)))')
"""
from sympy import Heaviside

from ..errors import SpecError
from ..ir.conv import is_kernel
from ..ir.quantities import KINDS
from ..spec import rules
from .numpy_code import ArrayPrinter, Code, sigma_prime

#: the generated module's name of NumPy's sliding_window_view (imported under it)
WINDOWS = "_windows"


def quantity_name(kind, layer):
    """The Python name of a quantity: its NumPy stem from the quantity table and its
    layer (``K1``, ``H2``, ``Z0``, ``z3``), the target ``Y``."""
    if kind == "y":
        return "Y"
    return f"{KINDS[kind].numpy}{int(layer)}"


def adjoint_name(var):
    """The Python name of the cotangent ∂J/∂v: ``dJ_dH1``, ``dJ_dz3``."""
    return f"dJ_d{quantity_name(var.kind, var.layer)}"


def _int(value):
    if not getattr(value, "is_Integer", isinstance(value, int)):
        raise SpecError(f"the export needs concrete sizes, got {value}")
    return int(value)


class GraphPrinter(ArrayPrinter):
    """Whole-array NumPy code of a network of calls (module docstring). ``outputs``
    maps an activation's input name to its output's (``H1`` → ``A1``), so that σ' is
    read from σ's stored output where its rule row allows."""

    def _print_Var(self, expr):
        return quantity_name(expr.kind, expr.layer)

    def _print_MatPartial(self, expr):
        return adjoint_name(expr.wrt)

    def _print_Act(self, expr):
        rule = rules.activation(expr.name)
        name = self._print(expr.arg)
        if not name.isidentifier():
            raise SpecError(f"activation of {expr.arg} cannot be printed from stored values")
        if expr.order == 1:
            prime = sigma_prime(rule, name, self._settings["outputs"].get(name, name))
            if isinstance(prime, Heaviside) and prime.args[1] == 0:
                return self.mask_code(self._print(prime.args[0]))
            return self._print(prime)
        if not rule.elementwise:          # softmax over each column
            return f"_{rule.name}({name})"
        return self._print(rule.stable_forward().xreplace({rules.x: Code(name)}))

    # -- the nodes of a convolution (derive.ir.conv) -------------------------------------
    def _windows(self, X, width, axis=1):
        return f"{WINDOWS}({self._print(X)}, {_int(width)}, axis={axis})"

    def _print_Corr(self, expr):
        """corr(X, K)[o, t] = Σ_c Σ_j K[o, c, j] X[c, t + j − 1] (K a kernel); corr(X,
        G)[o, c, j] = Σ_t G[o, t] X[c, t + j − 1] (G a matrix: a kernel's gradient)."""
        X, W, taps = expr.args
        dot = self.fn("tensordot")
        if is_kernel(W):
            return f"{dot}({self._print(W)}, {self._windows(X, taps)}, axes=((1, 2), (0, 2)))"
        return f"{dot}({self._print(W)}, {self._windows(X, W.shape[1])}, axes=((1,), (2,)))"

    def _print_Flip(self, expr):
        return f"{self.fn('flip')}({self._print(expr.args[0])}, axis=2).transpose(1, 0, 2)"

    def _print_Pad(self, expr):
        G, w = expr.args
        return f"{self.fn('pad')}({self._print(G)}, ((0, 0), ({_int(w)}, {_int(w)})))"

    def _fit_columns(self, text, have, want):
        """An array of ``have`` columns cut or padded with zero columns to ``want``."""
        if have == want:
            return text
        if have > want:
            return f"{self._paren(text)}[:, :{want}]"
        return f"{self.fn('pad')}({text}, ((0, 0), (0, {want - have})))"

    def _print_Spread(self, expr):
        G, p, n = expr.args
        text = f"{self.fn('repeat')}({self._print(G)}, {_int(p)}, axis=1)"
        return self._fit_columns(text, _int(p) * _int(G.shape[1]), _int(n))

    def _print_Scatter(self, expr):
        G, S, p, n = expr.args
        text = f"{self.fn('repeat')}({self._print(G)}, {_int(p)}, axis=1) * {self._print(S)}"
        return self._fit_columns(text, _int(p) * _int(G.shape[1]), _int(n))

    def _print_Unflatten(self, expr):
        g, rows, cols = expr.args
        return f"{self._wrap(g)}.reshape({_int(rows)}, {_int(cols)})"

    def _print_Flatten(self, expr):
        return f"{self._wrap(expr.args[0])}.reshape(-1, 1)"

    def _print_Pool(self, expr):
        """The windows of p columns as an axis: their mean, or the entry the mask picks."""
        A, p, n, S = expr.args
        rows, p, n = _int(A.shape[0]), _int(p), _int(n)
        text = f"{self._wrap(A)}[:, :{n * p}]"
        if S == 0:
            return f"{text}.reshape({rows}, {n}, {p}).mean(axis=2)"
        return f"({text} * {self._print(S)}).reshape({rows}, {n}, {p}).sum(axis=2)"


def graph_code(expr, outputs=None):
    """NumPy code for one expression of a network of calls."""
    return GraphPrinter(dict(batch=False, outputs=outputs or {})).doprint(expr)


__all__ = ["GraphPrinter", "WINDOWS", "adjoint_name", "graph_code", "quantity_name"]
