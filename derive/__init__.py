"""backprop-derive: derive backpropagation symbolically and write it up.

The public surface: `Network`, `backprop`, `verify`, `render`, `export_numpy`, `export`
(NumPy, PyTorch, JAX, array API), the matrix-derivative catalogue's `matrix_derivative`
and `verify_identity`, the chain checker `check_steps`, and the error types.

>>> from derive import Network, backprop
>>> backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce")).delta(2)
-y + z_2
"""
from .api import backprop, check_steps, export, matrix_derivative, verify, verify_identity
from .codegen.module import export_numpy
from .documents.notes import render
from .errors import ClaimError, DeriveError, SpecError
from .spec.network import Network

__version__ = "0.2.0"

__all__ = ["Network", "backprop", "verify", "render", "export_numpy", "export", "matrix_derivative",
           "verify_identity", "check_steps", "DeriveError", "SpecError", "ClaimError"]
