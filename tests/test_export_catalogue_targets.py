"""export(matrix_derivative(...), target=…) (SPEC §5b): ``f_and_grad(**arrays)`` gives f
and the derived gradient, checked against central differences of f, for every target;
the catalogue's identities and the functions the claim syntax computes."""
import sys

import numpy as np
import pytest
from framework_cases import need
from sympy import Symbol

from derive import SpecError, export, matrix_derivative
from derive.documents.catalogue import ENTRIES
from derive.printing.matrix_code import symbol_name

EXTRA = [("log det(X)", "X"), ("y^T A^{-1} x", "A"), ("tr(A B)", "A"), ("tr(A B)", "B"),
         ("||X||_F^2", "X"), ("x^T sigmoid(A) y", "A"), ("y^T tanh(A x)", "A"),
         ("y^T exp(A) x", "A"), ("y^T log(A) x", "A"), ("y^T sqrt(A) x", "A")]
GENERIC = ("sigma", "phi")
IDENTITIES = [(e.expr, w) for e in ENTRIES for w in e.wrt
              if not any(g in e.expr for g in GENERIC)] + EXTRA
TARGETS = ("numpy", "torch", "jax", "array_api")


@pytest.fixture(scope="module")
def converters():
    """target -> (array from a float64 NumPy array, NumPy array from a result); a
    framework is imported (or the test skipped, never in CI) when its target is asked."""
    def get(target):
        if target == "numpy":
            return np.asarray, np.asarray
        if target == "torch":
            torch = need("torch")
            return torch.tensor, (lambda a: a.detach().numpy())
        if target == "jax":
            jax = need("jax")
            jax.config.update("jax_enable_x64", True)
            return jax.numpy.asarray, np.asarray
        return need("array_api_strict").asarray, np.asarray
    yield get
    if "jax" in sys.modules:
        sys.modules["jax"].config.update("jax_enable_x64", False)


def _arrays(d, rng):
    """Arrays of the derivation's shapes with entries in (0.5, 1.5) (log and sqrt are
    defined), square matrices shifted by 2 I (invertible, positive determinant)."""
    sizes, arrays = {}, {}
    for name, shape in d.shapes.items():
        dims = [sizes.setdefault(s, 2 + len(sizes)) if isinstance(s, Symbol) else int(s)
                for s in shape]
        value = rng.uniform(0.5, 1.5, size=dims)
        if dims[0] == dims[1] and dims[0] > 1:
            value += 2 * np.eye(dims[0])
        arrays[symbol_name(name)] = value
    return arrays


def _central_differences(f, arrays, wrt, eps=1e-6):
    base = arrays[wrt]
    num = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        up, down = base.copy(), base.copy()
        up[idx] += eps
        down[idx] -= eps
        num[idx] = (f(dict(arrays, **{wrt: up})) - f(dict(arrays, **{wrt: down}))) / (2 * eps)
    return num


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("expr,wrt", IDENTITIES, ids=[f"{e}|d{w}" for e, w in IDENTITIES])
def test_f_and_grad_matches_central_differences(converters, expr, wrt, target):
    d = matrix_derivative(expr, wrt)
    g = export(d, target=target)
    to, back = converters(target)
    arrays = _arrays(d, np.random.default_rng(0))
    name = symbol_name(d.wrt.name)

    def f(values):
        return float(back(g.f_and_grad(**{k: to(v) for k, v in values.items()})[0]))

    value, grad = g.f_and_grad(**{k: to(v) for k, v in arrays.items()})
    grad = back(grad)
    numeric = _central_differences(f, arrays, name)
    assert grad.shape == arrays[name].shape and grad.dtype == np.float64
    assert np.abs(grad - numeric).max() <= 1e-6 * max(1.0, np.abs(numeric).max())


def test_a_generic_function_has_no_code():
    d = matrix_derivative("y^T sigma(A) x", "A")
    with pytest.raises(SpecError, match="sigma is a generic function with no formula"):
        export(d, target="numpy")


def test_a_wrong_shape_is_named():
    g = export(matrix_derivative("y^T A x", "A"), target="numpy")
    with pytest.raises(ValueError, match=r"x must have shape \('n', 1\) with n = 3"):
        g.f_and_grad(A=np.ones((2, 3)), x=np.ones((2, 1)), y=np.ones((2, 1)))
    with pytest.raises(ValueError, match="f_and_grad takes the arrays"):
        g.f_and_grad(A=np.ones((2, 3)))


def test_dimension_names_that_are_python_words_or_variables_still_run():
    d = matrix_derivative("tr(A) + tr(A^T)", "A", {"A": ("if", "if")})
    f, grad = export(d, target="numpy").f_and_grad(A=np.eye(3))
    assert float(f) == 6.0 and np.array_equal(grad, 2 * np.eye(3))
    d = matrix_derivative("y^T A x", "A", {"A": ("x", "f"), "x": ("f", 1), "y": ("x", 1)})
    x, y = np.arange(1.0, 4.0).reshape(3, 1), np.arange(1.0, 3.0).reshape(2, 1)
    f, grad = export(d, target="numpy").f_and_grad(A=np.ones((2, 3)), x=x, y=y)
    assert float(f) == float(y.sum() * x.sum()) and np.array_equal(grad, y @ x.T)
