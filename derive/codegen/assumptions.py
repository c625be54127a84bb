"""What the generated module checks of the values it is given, read from the derivation.

A gradient formula can hold only under an assumption the derivation made: δ_L = z_L − y
through softmax and cross-entropy needs every target column to sum to 1 (the engine
records it as an `ASSUMPTION` step, Σ_i y_i = 1). A loss row says what its target must be
(``target``: "unit" targets are probabilities, "simplex" ones probability vectors), and a
dropout mask is inverted dropout's (entries 0 or one value 1/(1 − p) ≥ 1, so that
``train=False``, dropout as the identity, is the expected value of training). Each of
these becomes a `ValueCheck`: the text the module's docstring states, and the call of one
of the module's checking helpers. An assumption this module cannot turn into a check
stops the export (no gradient is exported whose assumption goes unchecked).

>>> from derive import Network
>>> from derive.engine.plan import backprop
>>> d = backprop(Network(activations=("tanh", "softmax"), loss="cce"))
>>> [c.code for c in value_checks(d)]
['_in_unit_interval(Y, "Y")', '_columns_sum_to(Y, "Y", 1, ...)']
"""
from dataclasses import dataclass

from sympy import Indexed, Sum

from ..errors import SpecError
from ..ir.steps import Rule

#: what a loss row's target kind asks of Y (its entries): the helper and the words
TARGETS = {
    "unit": ("_in_unit_interval", "every entry of Y lies in [0, 1] (the targets are "
                                  "probabilities)"),
    "simplex": ("_in_unit_interval", "every entry of Y lies in [0, 1] (each column is a "
                                     "probability vector)"),
}


@dataclass(frozen=True)
class ValueCheck:
    """One check of the values of Y or of the masks: ``text`` for the docstring, ``code``
    the helper call (``...`` stands for the derivation's words, filled in by `call`)."""
    text: str
    code: str
    why: str = ""

    def call(self):
        """The code with the reason the helper's message gives."""
        return self.code.replace("...", repr(self.why)) if self.why else self.code


def _target_check(loss_row):
    if loss_row.target not in TARGETS:
        return []
    helper, words = TARGETS[loss_row.target]
    return [ValueCheck(f"{words}: the {loss_row.title} loss's target", f'{helper}(Y, "Y")')]


def _assumption_check(step, said):
    """Σ_i y_i = c over the rows of y (the one assumption the engine makes on a target)."""
    lhs, rhs = step.lhs, step.rhs
    if isinstance(lhs, Sum) and len(lhs.limits) == 1 and isinstance(lhs.function, Indexed):
        comp, (index, _, _) = lhs.function, lhs.limits[0]
        if str(comp.base) == "y" and comp.indices[0] == index and rhs.is_number:
            return ValueCheck(f"every column of Y sums to {rhs}: the derivation assumes "
                              f"{said}", f'_columns_sum_to(Y, "Y", {rhs}, ...)', said)
    raise SpecError(f"export cannot check the derivation's assumption {step.note!r} "
                    f"({lhs} = {rhs}); no module is exported whose assumption goes unchecked")


def value_checks(d):
    """The checks of Y's values: the loss row's target, then each assumption step."""
    checks = _target_check(d.net.loss_rule)
    steps = [s for s in d.steps if s.rule == Rule.ASSUMPTION]
    for step in dict.fromkeys(steps):
        said = next((a for a in d.assumptions if a.startswith(step.note)), step.note)
        checks.append(_assumption_check(step, said))
    return checks


def mask_check():
    """The check of each dropout mask M_l, the forward pass's input."""
    return ValueCheck("every dropout mask holds 0 and one value c = 1/(1 − p) ≥ 1 (inverted "
                      "dropout, whose expectation is the train=False identity)",
                      "_dropout_mask(M, name)")
