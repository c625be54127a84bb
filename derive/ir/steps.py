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


class Group:
    """The groups a step can belong to (steps sharing one form one chain of equalities),
    named once: the engine sets them, the documents choose lead-ins and templates by them."""

    LOSS = "loss"
    DECAY = "decay"
    AUGMENT = "augment"
    PRE = "pre"                   # h_l = W_l z_{l-1} (+ b_l)
    POST = "post"                 # each later call's output: z_l = σ(h_l), ĥ_l, a_l, …
    NORM = "norm"                 # a normalization's μ_l, v_l, x̂_l
    DJDZ = "dJdz"
    LOCAL = "local"               # ∂z_j/∂h_k, the elementwise (or softmax) Jacobian
    JACOBIAN = "jacobian"
    ASSUME = "assume"
    DELTA = "delta"
    DELTA_MATRIX = "delta_matrix"
    OUT = "out"                   # σ' written through the output
    LINEAR = "linear"             # ∂h_{l+1,i}/∂z_{l,k}
    WBAR = "wbar"
    DW = "dW"
    LINW = "linW"
    DB = "db"
    LINB = "linb"
    DGAMMA = "dgamma"
    DBETA = "dbeta"
    UPDATE = "update"
    # the documents' own chains of a hidden block with options (`documents.sections`)
    DJDA = "dJda"
    DJDHHAT = "dJdhhat"
    NORM_DELTA = "norm_delta"
    # the catalogue's (`derive.matrix.derivation`)
    COST = "C"
    DCOST = "dC"
    DX = "dX"


GROUPS = frozenset(v for k, v in vars(Group).items() if k.isupper()) | {""}


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
    op: str = ""                # the op row whose call the step derives (walker steps)
    port: str = ""              # … and the port it differentiates by

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
                    self.note, self.op, self.port)


def _sub_layer(layer, mapping):
    return layer.xreplace(mapping) if isinstance(layer, Basic) else layer
