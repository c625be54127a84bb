"""The scalar function atoms of index notation: σ_sigmoid(x), σ'_tanh(x), ….

An activation stays an opaque SymPy function while a derivation is built, so exact
comparisons work on rational functions of those atoms; its definition is needed only
for a value. The definitions are the rule rows of `derive.spec.rules`, which the IR
does not import: the face (`derive.api`) installs the lookup with `set_definitions`
once, and every atom finds its row through `definition` when it is evaluated.

>>> from sympy import Symbol
>>> realize(act_function("tanh", 1)(Symbol("a")))
1 - tanh(a)**2
"""
import hashlib
from functools import lru_cache

from mpmath.libmp import prec_to_dps
from sympy import Function

from ..vocab import ACTIVATION_INPUT

_LOOKUP = []     # [name -> rule row], installed by the face


def set_definitions(lookup):
    """Install the function that gives the rule row of an activation name."""
    _LOOKUP[:] = [lookup]


def definition(name):
    """The rule row of an activation: ``forward``, ``derivative`` (in
    `vocab.ACTIVATION_INPUT`), ``derivative_out`` (in `vocab.ACTIVATION_OUTPUT`),
    ``elementwise``, ``is_identity``."""
    return _LOOKUP[0](name)


def is_atom(f):
    """Is ``f`` an activation atom made by `act_function`?"""
    return isinstance(f, Function) and hasattr(type(f), "rule_name")


def body(f):
    """The definition of the atom ``f`` (σ or σ'), in `vocab.ACTIVATION_INPUT`."""
    row = definition(type(f).rule_name)
    return row.derivative if type(f).order else row.forward


@lru_cache(maxsize=None)
def act_function(name, order=0):
    """The scalar SymPy function for an activation (order 0) or its derivative (1)."""
    base = name.split(":", 1)[0]
    if base == "custom":  # distinct customs must stay distinct functions
        base += "_" + hashlib.sha1(name.encode()).hexdigest()[:6]
    fn = Function(base + "_prime" * order, real=True)
    fn.rule_name, fn.order = name, order
    if order == 0:
        fn.fdiff = lambda self, argindex=1: act_function(name, 1)(self.args[0])
    fn._eval_evalf = _evalf_through_definition
    return fn


def _evalf_through_definition(self, prec):
    """Numeric value of an activation atom: its definition at the numeric argument."""
    arg = self.args[0].evalf(prec_to_dps(prec))
    if not arg.is_number:
        return None
    return body(self).xreplace({ACTIVATION_INPUT: arg}).evalf(prec_to_dps(prec))


def realize(expr):
    """Replace the activation atoms of ``expr`` by their definitions."""
    return expr.replace(is_atom, lambda f: body(f).xreplace({ACTIVATION_INPUT: realize(f.args[0])}))
