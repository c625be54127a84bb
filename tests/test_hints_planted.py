"""Hints for the common mistakes (issue 21, item 3): each mistake is planted into a right
claim over the activation and option tables, and the verifier must (a) say DOES NOT
HOLD, (b) find a hint naming the mistake, (c) whose repaired claim holds when verified
on its own. The right claims are the notes' forms; that each holds is asserted too.
"""
import pytest

from derive import Network
from derive.claims.network_check import verify
from derive.claims.verdict import format_verdict

#: activation -> (its derivative at layer k as the notes write it, the same written wrong)
DERIVATIVE = {"sigmoid": ("z_{k} ⊙ (1 - z_{k})", "h_{k} ⊙ (1 - h_{k})"),
              "tanh": ("(1 - z_{k} ⊙ z_{k})", "(1 - z_{k})")}


def _form(act, k, wrong=False):
    return DERIVATIVE[act][wrong].format(k=k)


def _cases():
    """(network options, param, right claim, planted claim, words the hint must have)."""
    for act in DERIVATIVE:
        net = dict(depth=2, activation=act, loss="sse")
        d2 = f"(2 (z_2 - y) ⊙ {_form(act, 2)})"
        right = f"(W_2^T {d2} ⊙ {_form(act, 1)}) x^T"
        yield net, "W_1", right, f"(W_2^T {d2} ⊙ {_form(act, 1, True)}) x^T", \
            ("derivative", "h_1 where z_1 belongs")
        yield net, "W_2", f"{d2} z_1^T", f"{d2} h_1^T", "h_1 where z_1 belongs"
        yield net, "W_2", f"{d2} z_1^T", f"{d2} z_1", ("transpose", "write vᵀ")
        yield net, "W_1", right, f"(W_2^T {d2}) x^T", "missing ⊙ σ'(h_1)"
        drop = dict(net, dropout=True)
        a1 = _form(act, 1).replace("z_1", "a_1")      # z_1 = M_1 ⊙ a_1 with dropout
        masked = f"(M_1 ⊙ (W_2^T {d2}) ⊙ {a1})"
        yield drop, "delta_1", masked, f"((W_2^T {d2}) ⊙ {a1})", "missing ⊙ M_1"
        yield drop, "delta_1", masked, f"(M_1 ⊙ M_1 ⊙ (W_2^T {d2}) ⊙ {a1})", \
            "factor too many"
        decay = dict(net, weight_decay=True)
        yield decay, "W_2", f"{d2} z_1^T + lambda W_2", f"{d2} z_1^T", "λW forgotten"
        yield decay, "W_2", f"{d2} z_1^T + lambda W_2", f"{d2} z_1^T + 2 lambda W_2", \
            "λW doubled"
        yield decay, "W_2", f"{d2} z_1^T + lambda W_2", f"{d2} z_1^T + lambda W_2/2", \
            "λW halved"
        res = dict(depth=3, activation=act, loss="sse", residual=True)
        yield res, "delta_1", f"(W_2^T delta_2 + W_3^T delta_3) ⊙ {_form(act, 1)}", \
            f"(W_2^T delta_2) ⊙ {_form(act, 1)}", "skip path"
    soft = dict(depth=2, activation="tanh", output="softmax", loss="sse")
    yield soft, "delta_2", "2 (diag(z_2) - z_2 z_2^T) (z_2 - y)", \
        "2 (z_2 - y) ⊙ z_2 ⊙ (1 - z_2)", "Jacobian"
    norm = dict(depth=2, activation="tanh", loss="sse", norm="layer")
    g = "(gamma_1 ⊙ (W_2^T delta_2 ⊙ tanh'(hhat_1)))"
    vjp = f"1/sqrt(var_1 + epsilon) (I - 1 1^T/n_1 - xhat_1 xhat_1^T/n_1) {g}"
    yield norm, "delta_1", vjp, vjp.replace("- xhat_1", "+ xhat_1"), "sign"
    yield norm, "delta_1", vjp, vjp.replace("gamma_1 ⊙ ", ""), "missing ⊙ gamma_1"


CASES = list(_cases())


@pytest.mark.parametrize("net, param, right, planted, words", CASES,
                         ids=[f"{c[0]['activation']}-{c[4] if isinstance(c[4], str) else c[4][0]}"
                              for c in CASES])
def test_planted_mistake_gets_its_hint(net, param, right, planted, words):
    network = Network.uniform(**net)
    assert verify(network, param, right).holds, right
    v = verify(network, param, planted)
    assert not v.holds
    words = (words,) if isinstance(words, str) else words
    assert any(w in v.hint for w in words), format_verdict(v)
    if "the claim is " in v.hint:     # the outer-product reading: "…, which holds"
        repaired = v.hint.split("the claim is ", 1)[1].split(", which holds")[0]
    else:
        repaired = v.hint.rsplit(": ", 1)[1].removesuffix(" holds")
    assert verify(network, param, repaired).holds, repaired


def test_hint_in_the_claims_notation():
    """A gh claim's hint names g^1 and h^1, not h_1 and z_1."""
    net = Network.uniform(depth=2, activation="sigmoid", loss="bce")
    v = verify(net, "W^1", "(W^2^T (h^2 - y) ⊙ σ'(h^1)) x^T", notation="gh")
    assert "h^1 where g^1 belongs" in v.hint and "z_1" not in v.hint
