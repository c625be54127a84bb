"""Networks generated from the rule tables, shared by the test modules."""
from derive import Network, SpecError
from derive.spec import rules

BIASES = ("none", "augmented", "explicit")


def hidden_for(output):
    """A hidden activation to pair with an output one (softmax is output-only)."""
    return output if rules.activation(output).elementwise else "tanh"


def valid_pairs():
    """Every (output activation, loss) pair the validator accepts."""
    pairs = []
    for act in rules.ACTIVATIONS:
        for loss in rules.LOSSES:
            try:
                Network(activations=(act,), loss=loss)
            except SpecError:
                continue
            pairs.append((act, loss))
    return pairs


def net_for(act, loss, depth, bias="none", batch=False, widths=None):
    acts = (hidden_for(act),) * (depth - 1) + (act,)
    return Network(activations=acts, loss=loss, bias=bias, batch=batch, widths=widths)


def small_widths(act, depth):
    """Concrete widths small enough for certification, ≥ 2 on a softmax output."""
    return (2,) + (2,) * (depth - 1) + (2,) if depth > 1 else (2, 2)
