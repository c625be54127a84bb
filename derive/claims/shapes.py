"""`ShapeMismatch`: a well-formed claim whose shapes do not fit.

Both builders raise it (network claims in `derive.claims.network_build`, free
expressions in `derive.claims.free_build`); the message names the misfit. The checkers
turn it into a verdict ("shape mismatch: …"), so it is a verdict rather than an error;
it is a `ClaimError` so that wherever it is not turned into a verdict the user still
meets a one-line error. Where both are caught, catch `ShapeMismatch` first.

>>> issubclass(ShapeMismatch, ClaimError)
True
"""
from ..errors import ClaimError


class ShapeMismatch(ClaimError):
    """Two shapes that a product, sum, Hadamard product or trace needs to agree do not."""
