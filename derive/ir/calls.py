"""Op calls and blocks: a network as data.

An `OpCall` binds the ports of one op row (the row is the math, named by its key in the
engine's op table: ``"dense"``, ``"tanh"``, ``"layer_norm"``) to quantities
(`derive.ir.quantities.Q`), and names the quantity it writes. A block is a tuple of
calls in forward order; the layers of a network are blocks, and a repeated layer is
one block at the symbolic layer l, instantiated by substitution.

>>> from derive.vocab import LAYER as l
>>> call = OpCall("dense", {"W": Q("W", l), "x": Q("z", l - 1)}, Q("h", l))
>>> call.args["x"], call.out.kind
(Q(kind='z', layer=l - 1, step=None), 'h')
>>> call.at(2).args["x"].layer
1
"""
from dataclasses import dataclass
from types import MappingProxyType

from ..vocab import LAYER
from .quantities import Q


@dataclass(frozen=True, eq=False)
class OpCall:
    """One op applied: ``out = op(args)``, with ``args`` = {port: Q} (every port the row
    reads, its differentiable inputs and the rest: a mask, a normalization's statistics)."""

    op: str
    args: MappingProxyType
    out: Q

    def __init__(self, op, args, out):
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "args", MappingProxyType(dict(args)))
        object.__setattr__(self, "out", out)

    def _key(self):
        return self.op, tuple(sorted(self.args.items(), key=lambda kv: kv[0])), self.out

    def __eq__(self, other):
        return isinstance(other, OpCall) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        args = ", ".join(f"{port}={q.kind}_{q.layer}" for port, q in self.args.items())
        return f"OpCall({self.op}: {args} -> {self.out.kind}_{self.out.layer})"

    def at(self, layer, symbol=LAYER):
        """The same call with the symbolic layer replaced by ``layer``."""
        def move(q):
            return Q(q.kind, _sub(q.layer, symbol, layer), q.step)
        return OpCall(self.op, {p: move(q) for p, q in self.args.items()}, move(self.out))


def _sub(expr, symbol, value):
    return expr.xreplace({symbol: value}) if hasattr(expr, "xreplace") else expr


def reads(block):
    """{Q: the calls of ``block`` that read it}: a quantity read by several calls gets
    the sum of its paths."""
    out = {}
    for call in block:
        for q in call.args.values():
            out.setdefault(q, []).append(call)
    return out
