"""backprop-derive: derive backpropagation symbolically and write it up.

The public surface: `Network`, `backprop`, `verify`, `render`, `export_numpy`, the
matrix-derivative catalogue's `matrix_derivative` and `verify_identity`, and the error
types.

>>> from derive import Network, backprop
>>> backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce")).delta(2)
-y + z_2
"""
from .engine import backprop
from .errors import ClaimError, DeriveError, SpecError
from .network import Network

__all__ = ["Network", "backprop", "verify", "render", "export_numpy", "matrix_derivative",
           "verify_identity", "DeriveError", "SpecError", "ClaimError"]


# The submodules are imported here, before the functions below are defined: importing
# a submodule binds its name on the package, which would otherwise hide the function of
# the same name whenever the submodule is first imported later.
from . import export as _export_module  # noqa: E402
from . import identity_verify as _identity_module  # noqa: E402
from . import matrix_derivative as _matrix_module  # noqa: E402
from . import render as _render_module  # noqa: E402
from . import verify as _verify_module  # noqa: E402


def verify(net, param, claim, **options):
    """Check a closed form for ∂J/∂param; see `derive.verify.verify`."""
    return _verify_module.verify(net, param, claim, **options)


def render(derivation, fmt="latex", *args, **options):
    """Write a derivation up as LaTeX or Markdown; see `derive.render.render`."""
    return _render_module.render(derivation, fmt, *args, **options)


def export_numpy(net, **options):
    """Generate a NumPy gradient module; see `derive.export.export_numpy`."""
    return _export_module.export_numpy(net, **options)


def matrix_derivative(expr, wrt, shapes=None):
    """d(scalar)/d(matrix) derived in index notation; see
    `derive.matrix_derivative.matrix_derivative`.

    >>> matrix_derivative("y^T A B x", "B").result
    A.T*y*x.T
    """
    return _matrix_module.matrix_derivative(expr, wrt, shapes)


def verify_identity(identity, claim, **options):
    """Check a catalogue claim such as ("d/dA (y^T A x)", "y x^T"); see
    `derive.identity_verify.verify_identity`."""
    return _identity_module.verify_identity(identity, claim, **options)
