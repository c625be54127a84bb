"""The lesson of a network of calls, as SymPy objects (printed by `graph_notes`).

A derivation of a network given as blocks of calls (`derive.engine.graph`) brings its
forward pass (``d.forward``, one step per call), its walk (``d.steps``: each cotangent's
matrix form, the windowed rows' index-form steps, the gradients) and its network
(``d.net.blocks``). `lesson` sorts them into what a lecturer teaches, every equation the
engine's own object, never rewritten:

* ``forward``: one display per block (layer), each call's output = its row's matrix form;
* ``backward``: one display per cotangent, in the order the walk computes them, each
  naming the calls that read the quantity; a windowed row's chain-rule line and its
  contracted Kronecker line come before the matrix form (when one call reads the
  quantity: with several, each index form is one path's share only and is left out),
  and a quantity read by several calls gets the sum of their VJPs (the accumulation);
* ``gradients``: the same for every parameter;
* ``operators``: each matrix node of those displays defined by its component;
* ``summary`` and ``algorithm``: the matrix forms in the order one backward sweep
  computes them (a parameter's gradient right after the cotangent it needs), and the
  algorithm's update θ ← θ − η ∂J/∂θ of every parameter.

Lines are (lhs, rhs); an lhs of None continues the chain of the line above.
"""
from dataclasses import dataclass, field

from sympy import Basic, IndexedBase, Symbol
from sympy.core.sympify import _sympify  # strict: refuses strings
from sympy.matrices.expressions import MatAdd, MatMul

from ..ir.nodes import MatPartial, Var
from ..ir.quantities import KINDS
from ..ir.steps import Rule
from ..vocab import ETA, LOSS

#: the free indices of an operator's definition, as many as its result has slots
FREE = tuple(Symbol(name, integer=True, positive=True) for name in "abkmq")
#: how many indices each index layout of the quantity table reads
SLOTS = {"entries": 2, "column": 1, "samples": 2, "grid": 2, "kernel": 3, "image": 3,
         "kernel2": 4, "mask2": 5}


@dataclass
class Display:
    """One display: its ``kind`` (the lead-in's template), its lines, and the facts its
    lead-in names (SymPy objects or plain words)."""

    kind: str
    lines: list
    facts: dict = field(default_factory=dict)


def readers(net):
    """{(kind, layer): [(op, port, output Q)]} of every quantity a call reads, in forward
    order."""
    out = {}
    for call in (c for block in net.blocks for c in block):
        for port, q in call.args.items():
            out.setdefault((q.kind, _sympify(q.layer)), []).append((call.op, port, call.out))
    return out


def _key(var):
    """A quantity's kind and layer (a SymPy number or expression: a symbolic step too)."""
    return var.kind, _sympify(var.layer)


def _index_var(step):
    """The matrix quantity an index-form step differentiates by (∂J/∂(V)_{…} → V)."""
    return step.lhs.wrt.base.label


def _forward(d):
    blocks, out = [], []
    for block in d.net.blocks:
        steps = [s for s in d.forward if s.layer == block[0].out.layer and s.op in
                 {c.op for c in block}]
        blocks.append(Display("forward", [(s.lhs, s.rhs) for s in steps],
                              dict(layer=block[0].out.layer, ops=[s.op for s in steps])))
    return blocks if blocks else out


def _display(kind_prefix, step, index, reads):
    """The display of one matrix-form step (a cotangent or a gradient)."""
    var = step.lhs.wrt
    paths = reads.get(_key(var), [])
    lines = []
    if len(paths) == 1 and index:
        chain = [s for s in index if s.rule == Rule.CHAIN_RULE]
        contracted = [s for s in index if s.rule == Rule.KRONECKER]
        if chain and contracted:
            lines = [(chain[0].lhs, chain[0].rhs), (None, contracted[0].rhs)]
    lines.append((step.lhs, step.rhs))
    summed = isinstance(step.rhs, MatAdd) and len(paths) > 1
    kind = kind_prefix + ("_sum" if summed else "_index" if len(lines) > 1 else "")
    facts = dict(var=var, paths=list(paths), layer=var.layer,
                 # derived once per kind of call (its other inputs alike), except where an
                 # index form is shown: that one is derived for each input
                 rule=(kind, tuple((op, port if kind.endswith("_index") else None)
                                   for op, port, _ in paths)),
                 loss=any(op.startswith("loss:") for op, _, _ in paths),
                 brackets=len(lines) > 1 and any(type(n).__name__ == "Inside"
                                                 for n in _walk(lines[1][1])),
                 flip=len(lines) > 1 and any(type(n).__name__.startswith("Flip")
                                             for n in _walk(step.rhs)))
    return Display(kind, lines, facts)


def _walk(expr):
    yield expr
    for arg in getattr(expr, "args", ()):
        yield from _walk(arg)


def _backward(d, reads):
    """(cotangent displays, gradient displays) in the walk's order."""
    index, cotangents, gradients = {}, [], []
    for s in d.steps:
        if s.form == "index":
            index.setdefault(_key(_index_var(s)), []).append(s)
        elif s.topic == "weights":
            gradients.append(_display("gradient", s, index.get(_key(s.lhs.wrt)), reads))
        else:
            cotangents.append(_display("cotangent", s, index.get(_key(s.lhs.wrt)), reads))
    return cotangents, gradients


def _sweep(d, reads):
    """The matrix forms in one backward sweep's order: each cotangent, then the gradient
    of every parameter whose last remaining reader wrote that quantity."""
    grads = {_key(s.lhs.wrt): s for s in d.steps if s.form == "matrix" and s.topic == "weights"}
    out, done = [], set()
    for s in d.steps:
        if s.form != "matrix" or s.topic == "weights":
            continue
        out.append((s.lhs, s.rhs))
        for key, g in grads.items():
            first = reads.get(key, [(None, None, None)])[0][2]   # the earliest call reading it
            if key not in done and first is not None and \
                    (first.kind, _sympify(first.layer)) == _key(s.lhs.wrt):
                out.append((g.lhs, g.rhs))
                done.add(key)
    out += [(g.lhs, g.rhs) for key, g in grads.items() if key not in done]
    return out


def operators(displays):
    """[(lhs, rhs)]: each matrix node of the displays (its operator and its number of
    indices) defined by its component at free indices."""
    seen, out = set(), []
    for disp in displays:
        for lhs, rhs in disp.lines:
            if lhs is None or not isinstance(rhs, Basic):
                continue
            target = lhs.wrt if isinstance(lhs, MatPartial) else lhs
            for node in _walk(rhs):
                if not (getattr(node, "is_Matrix", False) and hasattr(node, "component")):
                    continue
                count = _slots(node, target)
                key = (type(node).__name__, count, _masked(node))
                if key in seen:
                    continue
                seen.add(key)
                idx = FREE[:count]
                out.append((IndexedBase(node)[idx], node.component(*idx)))
    return out


def _masked(node):
    return type(node).__name__.startswith("Pool") and node.args[-1] != 0


def _slots(node, target):
    """How many indices the node's entries take: one for a column, else its result's
    slots (the quantity it equals, or one of its matrix arguments of the same shape)."""
    if node.shape[1] == 1:
        return 1
    kinds = [target] + [a for a in _walk(node) if isinstance(a, Var)]
    for var in kinds:
        if isinstance(var, Var) and var.shape == node.shape and var.kind in KINDS:
            return SLOTS[KINDS[var.kind].indices]
    if isinstance(target, Var) and target.kind in KINDS and target.shape == node.shape:
        return SLOTS[KINDS[target.kind].indices]
    return _try_slots(node)


def _try_slots(node):
    """The fewest indices the node's component accepts (a kernel-shaped gradient: 3)."""
    for count in (2, 3, 4, 5):
        try:
            node.component(*FREE[:count])
            return count
        except TypeError:
            continue
    return 2


def quantities(d):
    """[Var]: the leaves and every call's output, in forward order, each once (J left
    out: it is a number)."""
    seen, out = set(), []
    for s in d.forward:
        for v in sorted((a for a in _walk(s.rhs) if isinstance(a, Var)), key=str) + [s.lhs]:
            if isinstance(v, Var) and _key(v) not in seen:
                seen.add(_key(v))
                out.append(v)
    return out


def lesson(d):
    """The lesson of ``d`` (the module docstring), as a dict of lists of `Display`s and
    line pairs."""
    reads = readers(d.net)
    cotangents, gradients = _backward(d, reads)
    forward = _forward(d)
    return dict(forward=forward, backward=cotangents, gradients=gradients,
                operators=operators(forward + cotangents + gradients),
                summary=_sweep(d, reads), quantities=quantities(d),
                algorithm=dict(forward=[line for disp in forward for line in disp.lines],
                               backward=_sweep(d, reads), step=_updates(gradients)))


def _updates(gradients):
    """[(θ, θ − η ∂J/∂θ)]: one gradient step for every parameter (printed with ←)."""
    out = []
    for disp in gradients:
        theta = disp.lines[-1][0].wrt
        out.append((theta, MatAdd(theta, MatMul(-ETA, MatPartial(LOSS, theta)))))
    return out
