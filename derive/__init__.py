"""backprop-derive: derive backpropagation symbolically and write it up.

>>> from derive import Network, backprop
>>> backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce")).delta(2)
-y + z_2
"""
from .engine import backprop
from .errors import ClaimError, DeriveError, SpecError
from .network import Network

__all__ = ["Network", "backprop", "DeriveError", "SpecError", "ClaimError"]
