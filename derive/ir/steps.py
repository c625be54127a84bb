"""`Rule` and `Step`: the equations a derivation is made of.

A step is one equation ``lhs = rhs`` (both SymPy objects the engine produced), tagged
with the rule that produced it, the layer it belongs to, the topic it illustrates
(forward, loss, output, weights, bias, hidden, general, update) and whether it is a
component (index) or a matrix statement. Consecutive steps with the same ``group``
form one chain of equalities.
"""
from dataclasses import dataclass

from sympy import Basic

from . import display


class Rule:
    """The rule tags a step can carry."""

    DEFINITION = "definition"
    FORWARD = "forward pass"
    LOSS = "loss"
    CHAIN_RULE = "chain rule"
    LINEAR_JACOBIAN = "Jacobian of a linear map"
    ELEMENTWISE = "elementwise derivative"
    OUTPUT_FORM = "derivative in terms of the output"
    KRONECKER = "Kronecker contraction"
    SUBSTITUTION = "substitution"
    HADAMARD = "Hadamard collection"
    OUTER = "outer product"
    MATRIX_PRODUCT = "matrix product"
    SOFTMAX_JACOBIAN = "softmax Jacobian"
    CANCELLATION = "loss/activation cancellation"
    ASSUMPTION = "assumption"
    GENERAL = "general layer"
    UPDATE = "gradient-descent update"
    INDEX = "index notation"
    COMPONENT = "derivative of a component"
    RENAME = "renaming summation indices"
    REARRANGE = "rearranging the sums"
    MATRIX_FORM = "matrix form"
    ACCUMULATION = "sum over paths"
    FROBENIUS = "squared Frobenius norm"
    LAYER_TERMS = "one term per layer"

    #: rules whose line is justified by the rule alone (a rewriting, not a derivation)
    SELF_EVIDENT = (FROBENIUS, LAYER_TERMS)


TOPICS = ("forward", "loss", "output", "weights", "bias", "hidden", "general", "update")


@dataclass(frozen=True)
class Step:
    lhs: Basic
    rhs: Basic
    rule: str
    layer: object
    topic: str
    form: str = "matrix"        # "index" or "matrix"
    group: str = ""             # steps sharing a group form one chain of equalities
    note: str = ""              # a fact in words (an assumption, the value of relu'(0))

    def __post_init__(self):
        if self.topic not in TOPICS:
            raise ValueError(f"unknown topic {self.topic}")

    def _repr_latex_(self):
        """Notebook display: lhs = rhs typeset in the notes' notation, with its rule."""
        return display.latex_display(self)

    def subs(self, mapping):
        """The same step with symbols replaced (used to instantiate layer templates)."""
        return Step(self.lhs.xreplace(mapping), self.rhs.xreplace(mapping), self.rule,
                    _sub_layer(self.layer, mapping), self.topic, self.form, self.group,
                    self.note)


def _sub_layer(layer, mapping):
    return layer.xreplace(mapping) if isinstance(layer, Basic) else layer
