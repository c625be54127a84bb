"""Shared by tests/test_graph_notes.py: a network of calls written only here (the
residual add's accumulation), and the readers of the entries an index-form expression
names (a quantity's slots to the row and column of the matrix that stores it)."""
from dataclasses import dataclass

from sympy import Indexed, Integer

from derive.ir.calls import OpCall
from derive.ir.nodes import MatPartial, Var
from derive.ir.quantities import IMAGE_DIMS, KINDS, Q, Sizes
from derive.vocab import WIDTH


@dataclass(frozen=True)
class SkipNet:
    """A dense network of calls whose z_1 is read twice (by layer 2's weights and by the
    skip of its residual add), written here and nowhere in derive: the accumulation."""

    arch = "skipnet"
    depth = 3
    bias, batch, norm, dropout, weight_decay = "explicit", False, "none", False, False

    @property
    def blocks(self):
        def dense(l, act, out="z"):
            return (OpCall("dense_bias", {"W": Q("W", l), "x": Q("z", l - 1), "b": Q("b", l)},
                           Q("h", l)), OpCall(act, {"x": Q("h", l)}, Q(out, l)))
        skip = OpCall("residual", {"x": Q("a", 2), "skip": Q("z", 1)}, Q("z", 2))
        loss = OpCall("loss:mse", {"x": Q("z", 3), "t": Q("y", 3)}, Q("J", 3))
        return dense(1, "tanh"), dense(2, "tanh", "a") + (skip,), dense(3, "identity") + (loss,)

    def size_values(self):
        return {WIDTH[l]: Integer(w) for l, w in enumerate((2, 2, 2, 1))}

    def pre_activation(self, layer):
        return Q("h", layer)

    def describe(self):
        return "a dense network with one residual add"


def sizes_of(net):
    """The network's concrete sizes as the quantity table reads them."""
    if getattr(net, "arch", "") == "conv2d":
        rows, cols = zip(*net.images)
        return Sizes(net.widths, lengths=rows, kernel=net.kernel, pool=net.pool_size,
                     columns_=cols)
    return Sizes(net.widths, lengths=getattr(net, "lengths", ()),
                 kernel=getattr(net, "kernel", 1), pool=getattr(net, "pool_size", 1))


def storage(kind, layer, idx, sz):
    """(row, column) of the matrix storing quantity ``kind`` at 0-based slot indices
    ``idx`` (derive/ir/quantities.py: a kernel [o, c, j] at column cκ + j, an image
    [c, y, x] at y N' + x, a mask [c, u, j] at u p + j, …)."""
    slots = KINDS[kind].indices
    if len(idx) == 1:
        return idx[0], 0
    if slots == "kernel":
        step = sz.kernel if kind == "K" else sz.pool
        return idx[0], idx[1] * step + idx[2]
    if slots == "image":
        return idx[0], idx[1] * IMAGE_DIMS[kind](sz, layer)[1] + idx[2]
    if slots == "kernel2":
        return idx[0], (idx[1] * sz.kernel + idx[2]) * sz.kernel + idx[3]
    if slots == "mask2":
        u, v, i, j = idx[1:]
        return idx[0], ((u * sz.columns(layer) + v) * sz.pool + i) * sz.pool + j
    return idx[0], idx[1]


def written(expr, env, d, sz):
    """An index-form expression at concrete indices: every sum written out, every entry
    read from the values (a cotangent's under ("d" + kind, layer))."""
    def read(e):
        label = e.base.label
        var = label.wrt if isinstance(label, MatPartial) else label
        key = ("d" if isinstance(label, MatPartial) else "") + var.kind, int(var.layer)
        at = storage(var.kind, int(var.layer), [int(v) - 1 for v in e.indices], sz)
        return env[key][at]
    return expr.xreplace(d.sizes()).doit().replace(
        lambda e: isinstance(e, Indexed) and isinstance(e.base.label, (Var, MatPartial)), read)


def entries_of(var, sz):
    """Every 0-based slot index of a quantity (its kernel's taps, its image's pixels)."""
    rows, cols = var.shape
    slots = KINDS[var.kind].indices
    if slots == "kernel":
        return [(o, c, j) for o in range(rows) for c in range(cols // sz.kernel)
                for j in range(sz.kernel)]
    if slots == "kernel2":
        k = sz.kernel
        return [(o, c, u, v) for o in range(rows) for c in range(cols // k ** 2)
                for u in range(k) for v in range(k)]
    if slots == "image":
        height, width = IMAGE_DIMS[var.kind](sz, int(var.layer))
        return [(c, y, x) for c in range(rows) for y in range(height) for x in range(width)]
    return [(a, b) for a in range(rows) for b in range(cols)]


SLOTS = {"grid": 2, "kernel": 3, "image": 3, "kernel2": 4, "mask2": 5, "samples": 2,
          "entries": 2, "column": 1}
