"""A derivation's numbers at one point: the forward pass, the derived results and one
central difference, for a document's worked example (`derive.documents.worked` prints
them; the face hands this module to it).

The network is built at small concrete widths (2, or its own) as the engine's
`Instance`, the inputs, target and parameters drawn by `random_point` (a fixed seed:
small fractions), the forward pass run by `Instance.at`; the results are evaluated,
from the output down, with the one evaluator (a written form, a `Shorthand`, by its
meaning); the check moves the first entry of W_1 by ±η and reruns the forward pass. A
derivation with a symbolic depth is taken at depth 2 (3 with skip connections), as the
engine derives it there.
This is the numeric check a claim gets (`network_check`), made at one printed point.
"""
import dataclasses
import random

from sympy import Float, Function, Integer, Rational

from ..calculus.evaluate import NetworkEvaluator
from ..engine.instance import CONSTANTS, Instance, random_point
from ..engine.plan import backprop
from ..ir.activations import is_atom, realize
from ..ir.nodes import MatPartial, Var

DIGITS = 30
STEP = Rational(1, 10 ** 6)        # η of the central difference
SEED = 7
GIVEN = ("z", "y", "W", "b", "gamma", "beta", "M")     # z: the input z_0 only


class Values(NetworkEvaluator):
    """The one evaluator, with the lecturer's written forms read as what they mean."""

    def _eval_Shorthand(self, e):
        return self(e.meaning())


def number(e):
    """A value in DIGITS digits (an activation atom by its definition)."""
    e = realize(e) if any(is_atom(f) for f in e.atoms(Function)) else e
    return Float(e.evalf(DIGITS), DIGITS)


def concrete(d):
    """``d`` itself, or for a symbolic depth the engine's derivation at the smallest
    depth with a hidden layer of every kind: 2, or 3 with skip connections (they join
    layers 2 … L − 1)."""
    if not d.net.symbolic:
        return d
    depth = 3 if d.net.residual else 2
    hidden, output = d.net.activations           # a symbolic depth: (hidden, output)
    return backprop(dataclasses.replace(d.net, depth=depth,
                                        activations=(hidden,) * (depth - 1) + (output,)))


def key(lhs):
    """Where a result's value is kept: δ_l under ("delta", l), ∂J/∂V_l under ("dV", l)."""
    if isinstance(lhs, MatPartial):
        return ("d" + lhs.wrt.kind, int(lhs.wrt.layer))
    return (lhs.kind, int(lhs.layer)) if isinstance(lhs, Var) else None


def loss(inst, env, point):
    """J at the forward pass ``env``: the data loss plus the penalty, if any."""
    return number((inst.loss_from(env[("z", inst.depth)]) + inst.penalty()).xreplace(point))


def results(inst, env, point, rows):
    """[(lhs, value)] of the results ``rows``, in order, each read by the later ones."""
    values, out = Values(env), []
    sizes = {**inst.sizes(), **env.get(CONSTANTS, {})}
    for lhs, rhs in rows:
        value = values(rhs.xreplace(sizes)).applyfunc(number)
        if key(lhs) is not None:
            env[key(lhs)] = value
        out.append((lhs, value))
    return out


def central(inst, point):
    """(J(w + η) − J(w − η)) / 2η for w the first entry of W_1."""
    w = inst.env[("W", 1)][0, 0]
    moved = [{**point, w: point[w] + s * STEP} for s in (1, -1)]
    losses = [loss(inst, inst.at(p, DIGITS), p) for p in moved]
    return losses, (losses[0] - losses[1]) / (2 * STEP)


def numbers(d, rows_of):
    """Everything a worked example shows; ``rows_of(derivation)`` gives the results to
    evaluate (the document's boxed results)."""
    d = concrete(d)
    net = d.net
    widths = tuple(net.widths) if net.widths else (2,) * (net.depth + 1)
    inst = Instance(net, widths, m=2 if net.batch else None, symbolic=False)
    point = random_point(inst, random.Random(SEED))
    env = inst.at(point, DIGITS)
    given = sorted((k for k in inst.env if k[0] in GIVEN and (k[0] != "z" or k[1] == 0)),
                   key=lambda k: (k[1], GIVEN.index(k[0])))
    forward = sorted((k for k in env if isinstance(k, tuple) and k[0] in ("h", "z") and k[1]),
                     key=lambda k: (k[1], k[0]))
    backward = results(inst, env, point, rows_of(d))
    losses, difference = central(inst, point)
    return dict(
        given=[(k, inst.env[k].xreplace(point)) for k in given],
        forward=[(k, env[k]) for k in forward], loss=loss(inst, env, point),
        backward=backward, widths=widths, m=inst.m, depth=Integer(net.depth),
        weight=Var("W", 1, *inst.env[("W", 1)].shape), losses=losses, central=difference,
        derived=env[("dW", 1)][0, 0], step=STEP)
