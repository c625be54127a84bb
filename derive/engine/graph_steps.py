"""The forward pass of a network of calls as steps, one per call (what the documents
write before the backward walk of `derive.engine.graph`).

Each step is ``out = matrix form of the call's row`` at the symbolic sizes, bound to the
call's quantities (the loss's as the scalar J), tagged with the call's op, in forward
order.

>>> from derive.spec.conv import ConvNetwork
>>> steps = forward_steps(ConvNetwork((1, 2), kernel=2, length=5, head_widths=(2,)).blocks)
>>> [(s.op, str(s.lhs)) for s in steps][:3]
[('conv1d', 'hc_1'), ('relu', 'zc_1'), ('flatten', 'z_2')]
"""
from ..ir.steps import Group, Rule, Step
from .ops import Shapes
from .proofs import checked


def forward_steps(blocks):
    """[Step(out, op.matrix(bound))] of every call of ``blocks``, in forward order."""
    sh, out = Shapes("explicit", False), []
    for call in (c for block in blocks for c in block):
        op = checked(call.op, "explicit", False)
        bound = op.bound(sh, call)
        out.append(Step(bound[op.output], op.matrix(bound), Rule.FORWARD, call.out.layer,
                        "forward", "matrix", Group.POST, "", call.op))
    return out
