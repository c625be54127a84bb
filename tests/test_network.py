"""Network validation: every bad spec raises SpecError naming the field."""
import pytest

from derive import Network, SpecError

BAD = [
    # (kwargs, words the message must contain)
    (dict(activations=("sigmoid", "wiggle"), loss="bce"), ["wiggle", "allowed"]),
    (dict(activations=("sigmoid",), loss="hinge"), ["hinge", "allowed"]),
    (dict(activations=("softmax", "sigmoid"), loss="bce"), ["softmax", "output layer"]),
    (dict(activations=("tanh", "tanh"), loss="bce"), ["bce", "(0, 1)", "allowed"]),
    (dict(activations=("tanh", "sigmoid"), loss="cce"), ["cce", "probability"]),
    (dict(activations=("identity",), loss="bce"), ["bce", "identity"]),
    (dict(activations=(), loss="mse"), ["depth"]),
    (dict(activations=("tanh", "tanh"), loss="mse", widths=(2, 3)), ["widths", "3"]),
    (dict(activations=("tanh",), loss="mse", widths=(2, 0)), ["widths", "positive"]),
    (dict(activations=("tanh",), loss="mse", widths=(2, 2.5)), ["widths", "integers"]),
    (dict(activations=("tanh",), loss="mse", widths=(2, True)), ["widths"]),
    (dict(activations=("tanh",), loss="mse", widths="22"), ["widths"]),
    (dict(activations=("tanh",), loss="mse", bias="sideways"), ["bias", "augmented"]),
    (dict(activations=("tanh",), loss="mse", batch="yes"), ["batch"]),
    (dict(activations="tanh", loss="mse"), ["activations", "sequence"]),
    (dict(activations=("softmax",), loss="cce", widths=(3, 1)), ["softmax", "2"]),
    (dict(activations=("custom:__import__('os')",), loss="mse"), ["custom", "column"]),
    (dict(activations=("custom:x+",), loss="mse"), ["custom", "column"]),
    (dict(activations=("custom:" + "(" * 5000 + "x" + ")" * 5000,), loss="mse"), ["custom"]),
    (dict(activations=("custom:",), loss="mse"), ["custom", "empty"]),
    (dict(activations=("custom:3",), loss="mse"), ["depend on x"]),
    (dict(activations=(3,), loss="mse"), ["activation"]),
]


@pytest.mark.parametrize("kwargs,words", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_spec_raises_spec_error_naming_the_problem(kwargs, words):
    with pytest.raises(SpecError) as info:
        Network(**kwargs)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("depth", [0, -1, "M", 2.0, True, 10**6])
def test_bad_depth(depth):
    with pytest.raises(SpecError, match="depth"):
        Network.uniform(depth=depth, activation="tanh", loss="mse")


def test_symbolic_depth_takes_hidden_and_output():
    net = Network.uniform(depth="L", activation="tanh", loss="sse", output="identity")
    assert net.symbolic and net.activations == ("tanh", "identity")
    with pytest.raises(SpecError, match="symbolic"):
        Network.uniform(depth="L", activation="tanh", loss="sse", widths=(2, 2))


def test_uniform_puts_the_output_activation_last():
    net = Network.uniform(depth=3, activation="tanh", loss="cce", output="softmax")
    assert net.activations == ("tanh", "tanh", "softmax")
