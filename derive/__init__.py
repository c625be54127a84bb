"""backprop-derive: derive backpropagation symbolically and write it up.

The public surface: `Network`, `backprop`, `verify`, `render`, `export_numpy` and the
error types.

>>> from derive import Network, backprop
>>> backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce")).delta(2)
-y + z_2
"""
from .engine import backprop
from .errors import ClaimError, DeriveError, SpecError
from .network import Network

__all__ = ["Network", "backprop", "verify", "render", "export_numpy",
           "DeriveError", "SpecError", "ClaimError"]


def verify(net, param, claim, **options):
    """Check a closed form for ∂J/∂param; see `derive.verify.verify`."""
    from .verify import verify as _verify
    return _verify(net, param, claim, **options)


def render(derivation, fmt="latex", **options):
    """Write a derivation up as LaTeX or Markdown; see `derive.render.render`."""
    from .render import render as _render
    return _render(derivation, fmt, **options)


def export_numpy(net, **options):
    """Generate a NumPy gradient module; see `derive.export.export_numpy`."""
    from .export import export_numpy as _export
    return _export(net, **options)
