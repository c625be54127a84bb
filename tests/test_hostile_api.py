"""Hostile values through the Python API (issue 23, "Hostile input"): each raises one of
our errors (`derive.errors`), with a one-line message that names the value, never a bare
ValueError from deep inside SymPy or from wording the message itself (Python refuses
``str()`` of an integer past 4300 digits)."""
import pytest

from derive import DeriveError, Network, SpecError, backprop
from derive.errors import shown

HUGE = 7 * (10 ** 5000 - 1) // 9          # 5000 sevens: str() of it raises ValueError


@pytest.fixture(scope="module")
def d():
    return backprop(Network.uniform(depth=2, activation="tanh", loss="mse"))


def _one_line(exc_info, *words):
    assert isinstance(exc_info.value, DeriveError)
    assert type(exc_info.value) is not ValueError
    message = str(exc_info.value)
    assert "\n" not in message and len(message) < 300, message
    for word in words:
        assert word in message, (word, message)


#: (id, call, words of the message)
NETWORK_ROWS = [
    ("widths-set", lambda: Network(activations=("tanh", "tanh"), loss="mse", widths={2, 3, 1}),
     ["set", "order"]),
    ("widths-frozenset", lambda: Network.uniform(depth=1, activation="tanh", loss="mse",
                                                 widths=frozenset({2, 3})), ["frozenset"]),
    ("activations-set", lambda: Network(activations={"tanh", "identity"}, loss="mse"),
     ["activations", "set", "order"]),
    ("widths-bool", lambda: Network(activations=("tanh", "tanh"), loss="mse",
                                    widths=(True, 2, 2)), ["True"]),
    ("depth-huge", lambda: Network.uniform(depth=HUGE, activation="tanh", loss="mse"),
     ["depth", "256", "7777…7777 (5000 digits)"]),
    ("depth-huge-activations", lambda: Network(activations=("tanh",), loss="mse", depth=HUGE),
     ["depth", "5000 digits"]),
    ("widths-huge", lambda: Network(activations=("tanh",), loss="mse", widths=(HUGE, 2)),
     ["widths", "5000 digits"]),
    ("widths-huge-negative", lambda: Network(activations=("tanh",), loss="mse",
                                             widths=(-HUGE, 2)), ["-7777…7777"]),
]


@pytest.mark.parametrize("row", NETWORK_ROWS, ids=[r[0] for r in NETWORK_ROWS])
def test_a_hostile_network_is_refused_with_our_error(row):
    _, call, words = row
    with pytest.raises(SpecError) as exc_info:
        call()
    _one_line(exc_info, *words)


#: (id, call on the derivation, words)
DERIVATION_ROWS = [
    ("certify-bool-width", lambda d: d.certify(widths=(True, 2, 2)), ["True"]),
    ("certify-set", lambda d: d.certify(widths={1, 2, 3}), ["set", "order"]),
    ("certify-huge-width", lambda d: d.certify(widths=(HUGE, 2, 2)), ["5000 digits"]),
    ("delta-huge-layer", lambda d: d.delta(HUGE), ["layer", "5000 digits", "allowed: 1, 2"]),
    ("grad-huge-layer", lambda d: d.grad("W", HUGE), ["5000 digits"]),
    ("grad-huge-layer-text", lambda d: d.grad("W", "7" * 5000), ["5000 characters"]),
]


@pytest.mark.parametrize("row", DERIVATION_ROWS, ids=[r[0] for r in DERIVATION_ROWS])
def test_a_hostile_size_or_layer_is_refused_with_our_error(d, row):
    _, call, words = row
    with pytest.raises(SpecError) as exc_info:
        call(d)
    _one_line(exc_info, *words)


@pytest.mark.parametrize("value, text", [
    (0, "0"), (-12, "-12"), (10 ** 40 - 1, "9" * 40), (10 ** 40, "1000…0000 (41 digits)"),
    (HUGE, "7777…7777 (5000 digits)"), (-HUGE, "-7777…7777 (5000 digits)"),
    ("ab", "'ab'"), ((HUGE,), "(7777…7777 (5000 digits),)"),
], ids=["zero", "negative", "40-digits", "41-digits", "huge", "huge-negative", "text",
        "tuple"])
def test_shown_abbreviates_what_str_cannot_print(value, text):
    assert shown(value) == text
