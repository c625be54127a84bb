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
from ..ir.conv2d import is_kernel2
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

    def _print_Pow(self, expr):
        """A number's root (1/√d_k) as a Python float, which keeps float32 arrays float32
        (np.sqrt(2) is a float64 scalar and would promote them)."""
        if expr.is_number and not expr.is_Rational:
            return repr(float(expr))
        return super()._print_Pow(expr)

    def _print_ColumnSoftmax(self, expr):
        """softmax over each column of the scores (derive.ir.attention), max-shifted;
        causal: the module's ``_causal_softmax``."""
        return f"_{'causal_softmax' if expr.causal else 'softmax'}({self._print(expr.arg)})"

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


    # -- the nodes of a 2-D convolution (derive.ir.conv2d): an image is (C, N N') ----------
    def _image(self, X, cols):
        """The (C, N N') image X as (C, N, N')."""
        rows = _int(X.shape[1]) // _int(cols)
        return f"{self._wrap(X)}.reshape({_int(X.shape[0])}, {rows}, {_int(cols)})"

    def _print_Corr2(self, expr):
        X, W, taps, cols = expr.args
        dot, k = self.fn("tensordot"), _int(taps)
        rows = _int(X.shape[1]) // _int(cols)
        if is_kernel2(W):
            windows = f"{WINDOWS}({self._image(X, cols)}, ({k}, {k}), axis=(1, 2))"
            return (f"{dot}({self._print(W)}, {windows}, axes=((1, 2, 3), (0, 3, 4)))"
                    f".reshape({_int(W.shape[0])}, -1)")
        oy, ox = rows - k + 1, _int(cols) - k + 1
        windows = f"{WINDOWS}({self._image(X, cols)}, ({oy}, {ox}), axis=(1, 2))"
        G = f"{self._wrap(W)}.reshape({_int(W.shape[0])}, {oy}, {ox})"
        return f"{dot}({G}, {windows}, axes=((1, 2), (3, 4)))"

    def _print_Flip2(self, expr):
        return f"{self.fn('flip')}({self._print(expr.args[0])}, axis=(2, 3)).transpose(1, 0, 2, 3)"

    def _print_Pad2(self, expr):
        G, w, cols = expr.args
        w = _int(w)
        return (f"{self.fn('pad')}({self._image(G, cols)}, ((0, 0), ({w}, {w}), ({w}, {w})))"
                f".reshape({_int(G.shape[0])}, -1)")

    def _print_Pool2(self, expr):
        """The p × p windows as axes: their mean, or the entry the mask picks."""
        A, p, rows, cols, cols_in, S = expr.args
        C, p, U, V = _int(A.shape[0]), _int(p), _int(rows), _int(cols)
        windows = f"{self._image(A, cols_in)}[:, :{U * p}, :{V * p}].reshape({C}, {U}, {p}, {V}, {p})"
        if S == 0:
            return f"{windows}.mean(axis=(2, 4)).reshape({C}, {U * V})"
        mask = f"{self._wrap(S)}.reshape({C}, {U}, {V}, {p}, {p})"
        return (f"({windows}.transpose(0, 1, 3, 2, 4) * {mask}).sum(axis=(3, 4))"
                f".reshape({C}, {U * V})")

    def _unpool(self, windows, C, U, V, p, rows_out, cols_out):
        """(C, U, V, p, p) windows laid back as a (C, rows_out cols_out) image, zero
        past the last window."""
        grid = f"{windows}.transpose(0, 1, 3, 2, 4).reshape({C}, {U * p}, {V * p})"
        if (U * p, V * p) != (rows_out, cols_out):
            grid = (f"{self.fn('pad')}({grid}, ((0, 0), (0, {rows_out - U * p}), "
                    f"(0, {cols_out - V * p})))")
        return f"{grid}.reshape({C}, -1)"

    def _print_Spread2(self, expr):
        G, p, cols, rows_out, cols_out = expr.args
        C, p, V = _int(G.shape[0]), _int(p), _int(cols)
        U = _int(G.shape[1]) // V
        ones = f"{self.fn('ones')}((1, 1, 1, {p}, {p}), dtype={self._wrap(G)}.dtype)"
        windows = f"({self._wrap(G)}.reshape({C}, {U}, {V}, 1, 1) / {p * p} * {ones})"
        return self._unpool(windows, C, U, V, p, _int(rows_out), _int(cols_out))

    def _print_Scatter2(self, expr):
        G, S, p, cols, rows_out, cols_out = expr.args
        C, p, V = _int(G.shape[0]), _int(p), _int(cols)
        U = _int(G.shape[1]) // V
        windows = (f"({self._wrap(G)}.reshape({C}, {U}, {V}, 1, 1) * "
                   f"{self._wrap(S)}.reshape({C}, {U}, {V}, {p}, {p}))")
        return self._unpool(windows, C, U, V, p, _int(rows_out), _int(cols_out))

    def _print_Total2(self, expr):
        return self.reduce_code(self._print(expr.args[0]), 1)

    def _print_Flatten2(self, expr):
        return f"{self._wrap(expr.args[0])}.reshape(-1, 1)"

    def _print_Unflatten2(self, expr):
        g, channels, rows, cols = expr.args
        return f"{self._wrap(g)}.reshape({_int(channels)}, {_int(rows) * _int(cols)})"


def graph_code(expr, outputs=None):
    """NumPy code for one expression of a network of calls."""
    return GraphPrinter(dict(batch=False, outputs=outputs or {})).doprint(expr)


__all__ = ["GraphPrinter", "WINDOWS", "adjoint_name", "graph_code", "quantity_name"]
