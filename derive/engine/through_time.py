"""Backpropagation through time at a symbolic number of steps T (SPEC §1c; issue 27).

As the MLP engine does for a symbolic depth, the last step T and the step T − 1 are
derived explicitly, then the general step t (1 ≤ t < T), each by the one walker of
`derive.engine.graph` over that step's calls at a symbolic index. The step after the one
walked is given by the cotangents of its outputs, named (δ_{t+1}: ∂J/∂a_{t+1}, the
gates' ∂J/∂a_•,t+1, the LSTM's ∂J/∂c_{t+1}), and its calls that read the walked step's
state (h_t, c_t) add their VJPs to it: so δ_t is derived from δ_{t+1} and the readout's
error at t. A shared weight's gradient is the general step's term summed over
t = 1 … T (`derive.ir.time_sum.TimeSum`); the readout's, with ``readout="last"``, is the
step T's term alone.

`certify` instantiates by substitution: at concrete T, the step T's cotangents with
T = T, the step T − 1's with T = T, and the general step's at every t < T, each equal
(term by term) to the cotangents of the unrolled network of T steps, whose own
certificate (`derive.engine.graph`) checks them against the SymPy derivative of its
expanded loss; the gradients' sums written out equal the unrolled network's gradients.

>>> from derive.spec.rnn import RNNNetwork
>>> d = backprop_through_time(RNNNetwork("tanh", steps="T", inputs=1, hidden=2, outputs=1))
>>> d.grad("Wh")
Σ_{t=1}^{T} dJ/dat_t*ht_{t-1}.T
>>> d.instantiates(3)
True
"""
from dataclasses import dataclass, replace

from sympy import Integer
from sympy.matrices.expressions import MatAdd

from ..errors import SpecError
from ..ir.nodes import MatPartial
from ..ir.quantities import Q
from ..ir.steps import Rule, Step
from ..ir.time_sum import TimeSum
from ..spec.rnn import CELL_CALLS, STEP, STEPS, step_calls
from ..vocab import LOSS
from .graph import backprop_graph, walk
from .ops import Shapes

#: the (inputs, hidden, outputs) a symbolic derivation is certified at
TINY = (1, 2, 1)


@dataclass
class TimeCertificate:
    ok: bool
    steps: tuple            # the concrete T it was instantiated at
    checked: int            # parameter entries checked against the expanded loss
    compared: int           # cotangents and gradients compared term by term
    mismatches: tuple = ()  # (what, T) of every instantiation that differs


class ThroughTime:
    """The derivation of a recurrent network at T symbolic steps: ``cotangent(Q)`` at the
    steps T, T − 1 and t, ``delta``, ``grad``, the ``steps`` and ``certify``."""

    def __init__(self, net):
        if not net.symbolic:
            raise SpecError("backprop_through_time takes a network of T symbolic steps")
        self.net = net
        T, t, every = STEPS, STEP, net.readout == "every"
        self.walks = {T: walk([step_calls(net, T, True, not every)]),
                      T - 1: walk([step_calls(net, T - 1, every, False)], CELL_CALLS[net.cell](T)),
                      t: walk([step_calls(net, t, every, False)], CELL_CALLS[net.cell](t + 1))}
        self.cotangents = {q: v for w in self.walks.values() for q, v in w[1].items()}
        general, last = self.walks[t][2], self.walks[T][2]
        self.grads = {q.kind: TimeSum(general[q], t, 1, T) for q in general}
        self.grads.update({q.kind: last[q] for q in last if q.kind not in self.grads})
        self.steps = [s for w in self.walks.values() for s in w[0] if s.topic != "weights"]
        self.steps += [_gradient_step(kind, value) for kind, value in self.grads.items()]
        self.assumptions = ["the number of steps T is at least 2; the general step t runs "
                            "from 1 to T − 1"]

    def grad(self, kind, layer=1):
        """∂J/∂(shared weight ``kind``): a sum over the steps, or the step T's term."""
        return self.grads[kind]

    def cotangent(self, q):
        return self.cotangents[q]

    def delta(self, step):
        """δ at ``step`` (T, T − 1 or t): the cotangent of `pre_activation`."""
        return self.cotangents[self.net.pre_activation(step)]

    def sizes(self):
        return self.net.size_values()

    def unrolled(self, steps, sizes=None):
        """The derivation of the same network unrolled over ``steps`` concrete steps (at
        ``sizes`` = (inputs, hidden, outputs) when given: the derivation is written in the
        width symbols n_x, n_h, n_y, so it is the same at every width)."""
        widths = dict(zip(("inputs", "hidden", "outputs"), sizes)) if sizes else {}
        return backprop_graph(replace(self.net, steps=steps, **widths))

    def instantiates(self, steps, concrete=None):
        """Whether every cotangent and gradient, written at T = ``steps`` (and every t < T),
        equals the unrolled network's (``concrete``, or derived here), term by term."""
        return not self._mismatches(steps, concrete or self.unrolled(steps))[0]

    def _mismatches(self, steps, concrete):
        T, t, bad, compared = STEPS, STEP, [], 0
        at = {T: [{T: steps}], T - 1: [{T: steps}],
              t: [{T: steps, t: Integer(k)} for k in range(1, steps)]}
        for index, (_, cotangents, _) in self.walks.items():
            for values in at[index]:
                for q, value in cotangents.items():
                    layer = q.layer.xreplace(values)
                    if layer < 1:
                        continue
                    compared += 1
                    if not _same(value.xreplace(values),
                                 concrete.cotangents[Q(q.kind, layer)]):
                        bad.append((f"dJ/d{q.kind}_{layer}", steps))
        for kind, value in self.grads.items():
            compared += 1
            written = value.at({T: steps}) if isinstance(value, TimeSum) else value.xreplace(
                {T: steps})
            if not _same(written, concrete.grads[Q(kind, 1)]):
                bad.append((f"dJ/d{kind}", steps))
        return bad, compared

    def certify(self, steps=None, seed=0, sizes=TINY):
        """At each concrete T of ``steps``: the unrolled network at ``sizes`` certified
        against its expanded loss, and this derivation instantiated equal to it (module
        docstring). By default T = 2, 3 for the tanh cell and T = 2 for a gated one (whose
        expanded loss grows fast: seconds at T = 2, minutes at T = 3)."""
        steps = steps or ((2, 3) if self.net.cell == "tanh" else (2,))
        ok, checked, compared, bad = True, 0, 0, []
        for T in steps:
            concrete = self.unrolled(T, sizes)
            cert = concrete.certify(seed)
            mismatches, count = self._mismatches(T, concrete)
            ok = ok and cert.ok and not mismatches
            checked, compared, bad = checked + cert.checked, compared + count, bad + mismatches
        return TimeCertificate(ok, tuple(steps), checked, compared, tuple(bad))


def _gradient_step(kind, value):
    """∂J/∂(shared weight ``kind``) = ``value``: a sum over the steps, or one term."""
    rule = Rule.ACCUMULATION if isinstance(value, TimeSum) else Rule.MATRIX_FORM
    var = Q(kind, 1).var(Shapes("explicit", False))
    return Step(MatPartial(LOSS, var), value, rule, Integer(1), "weights", "matrix",
                port=kind, note="the shared weight is read at every step: the sum of its "
                "gradient over t" if rule == Rule.ACCUMULATION else "")


def _same(a, b):
    """Equal, up to the order of the terms of a sum."""
    def canonical(e):
        return MatAdd(*sorted(e.args, key=str)) if isinstance(e, MatAdd) else e
    return a == b or canonical(a) == canonical(b)


def backprop_through_time(net):
    """Derive ``net`` (a recurrent network of T symbolic steps: the module docstring)."""
    return ThroughTime(net)
