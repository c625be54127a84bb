"""Readable correct forms (SPEC §3): each rewrite rule of `derive.printing.claim_forms`
alone (a table of rule, network, input, expected, checked entry by entry against the
input with the activations written out), the rules in order as the verdicts print them,
and every printed correct form read back in every notation."""
import shutil
import subprocess

import pytest
from conftest import IN_CI
from sympy import Matrix, OneMatrix, simplify, symbols
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul

from derive import Network, verify
from derive.calculus.evaluate import evaluate
from derive.claims.grammar import parse
from derive.claims.network_build import build
from derive.claims.network_check import correct_form
from derive.ir.activations import act_function, realize
from derive.ir.nodes import Act, Var
from derive.printing.claim_forms import (
    RULES,
    derivative_in_output,
    nested_hadamard,
    scalar_out_of_sum,
    scalar_to_front,
)
from derive.printing.claim_text import to_claim, to_latex
from derive.printing.notation import PRESETS

N = 2   # rows of the vectors below; small, so the entrywise oracle is quick
SIG = Network.uniform(depth=2, activation="sigmoid", loss="mse")
TANH = Network.uniform(depth=2, activation="tanh", loss="mse")
RELU = Network.uniform(depth=2, activation="relu", loss="mse")
MIXED = Network(activations=("tanh", "sigmoid"), loss="mse")
z1, z2, y = Var("z", 1, 3, 1), Var("z", 2, N, 1), Var("y", 2, N, 1)
h1, h2 = Var("h", 1, 3, 1), Var("h", 2, N, 1)
W2 = Var("W", 2, N, 3)
one = OneMatrix(N, 1)


def minus(a, b):
    """a − b with the terms in the order written (SymPy's ``a - b`` reorders them)."""
    return MatAdd(a, MatMul(-1, b))


TABLE = [
    # (rule, network, input, expected)
    (derivative_in_output, SIG, Act("sigmoid", h2, 1), HadamardProduct(z2, minus(one, z2))),
    (derivative_in_output, TANH, Act("tanh", h2, 1), minus(one, HadamardProduct(z2, z2))),
    (derivative_in_output, MIXED, Act("tanh", h1, 1),
     minus(OneMatrix(3, 1), HadamardProduct(z1, z1))),
    (derivative_in_output, SIG, MatMul(W2.T, Act("sigmoid", h2, 1)),
     MatMul(W2.T, HadamardProduct(z2, minus(one, z2)))),
    (derivative_in_output, RELU, Act("relu", h2, 1), Act("relu", h2, 1)),   # not a polynomial
    (derivative_in_output, MIXED, Act("sigmoid", h1, 1), Act("sigmoid", h1, 1)),  # not layer 1's
    (derivative_in_output, SIG, Act("sigmoid", z2, 1), Act("sigmoid", z2, 1)),   # σ'(z): as is
    (nested_hadamard, SIG, HadamardProduct(z2 - y, HadamardProduct(z2, one - z2)),
     HadamardProduct(z2 - y, z2, one - z2)),
    (nested_hadamard, SIG, HadamardProduct(z2, y), HadamardProduct(z2, y)),
    (scalar_out_of_sum, SIG, MatMul(2, z2) - MatMul(2, y), MatMul(2, z2 - y)),
    (scalar_out_of_sum, SIG, MatMul(-3, z2) - MatMul(3, y), MatMul(3, -z2 - y)),
    (scalar_out_of_sum, SIG, z2 - MatMul(2, y), z2 - MatMul(2, y)),      # nothing shared
    (scalar_out_of_sum, SIG, z2 - y, z2 - y),
    (scalar_to_front, SIG, MatMul(MatMul(2, z2 - y), z1.T), MatMul(2, z2 - y, z1.T)),
    (scalar_to_front, SIG, HadamardProduct(MatMul(2, z2 - y), z2),
     MatMul(2, HadamardProduct(z2 - y, z2))),
    (scalar_to_front, SIG, MatMul(W2.T, MatMul(2, HadamardProduct(z2, y))),
     MatMul(2, W2.T, HadamardProduct(z2, y))),
    (scalar_to_front, SIG, MatMul(W2.T, z2), MatMul(W2.T, z2)),
]


def _written_out(expr, net):
    """The explicit matrix of ``expr`` at symbol entries, with z_l = σ_l(h_l) and the
    activations defined."""
    env = {("W", 2): Matrix(N, 3, symbols("w:6")), ("y", 2): Matrix(symbols(f"y:{N}"))}
    for layer, rows in ((1, 3), (2, N)):
        h = Matrix(symbols(f"h{layer}_:{rows}"))
        act = act_function(net.activation(layer).name)
        env["h", layer], env["z", layer] = h, h.applyfunc(act)
    return evaluate(expr, env).applyfunc(realize)


@pytest.mark.parametrize("rule, net, before, after", TABLE,
                         ids=[f"{r.__name__}-{k}" for k, (r, *_) in enumerate(TABLE)])
def test_each_rule_alone(rule, net, before, after):
    got = rule(before, net)
    assert got == after
    gap = _written_out(got, net) - _written_out(before, net)
    assert gap.applyfunc(simplify).is_zero_matrix


def test_the_rules_are_named_and_ordered():
    assert [name for name, _ in RULES] == ["derivative_in_output", "nested_hadamard",
                                           "scalar_out_of_sum", "scalar_to_front"]
    assert all(rule.__name__ == name and rule.__doc__ for name, rule in RULES)


# (network, parameter, correct form in hz, in za): as the notes write them
PRINTED = [
    (Network.uniform(depth="L", activation="sigmoid", loss="mse"), "W_L",
     "((z_L - y) ⊙ z_L ⊙ (1 - z_L)) z_{L-1}^T", "((a^L - y) ⊙ a^L ⊙ (1 - a^L)) a^{L-1}^T"),
    (Network.uniform(depth="L", activation="tanh", loss="mse"), "delta_L",
     "(z_L - y) ⊙ (1 - z_L ⊙ z_L)", "(a^L - y) ⊙ (1 - a^L ⊙ a^L)"),
    (Network.uniform(depth="L", activation="identity", loss="sse"), "W_L",
     "2 (z_L - y) z_{L-1}^T", "2 (a^L - y) a^{L-1}^T"),
    (Network.uniform(depth="L", activation="identity", loss="sse"), "delta_L",
     "2 (z_L - y)", "2 (a^L - y)"),
]


@pytest.mark.parametrize("net, param, hz, za", PRINTED)
def test_correct_forms_print_as_the_notes_write_them(net, param, hz, za):
    claim = "0 z_1" if param.startswith("delta") else "0 z_1 z_1^T"
    assert verify(net, param, claim).correct == hz
    assert verify(net, param, claim.replace("z", "a"), notation="za").correct == za


def _pairs():
    from nets import valid_pairs
    return valid_pairs()


@pytest.mark.parametrize("act, loss", _pairs())
def test_a_correct_form_reads_back_the_same_in_every_notation(act, loss):
    """The rewritten form of the hidden layer (where σ' is rewritten) parses, in every
    preset's letters and in LaTeX, to the expression it was printed from."""
    from nets import hidden_for
    net = Network.uniform(depth="L", activation=hidden_for(act), output=act, loss=loss)
    v = verify(net, "W_{L-1}", "0 z_{L-1} z_{L-2}^T")
    reference = build(parse(v.correct), net)[0]
    for notation in PRESETS:
        for text in (to_claim(reference, notation), to_latex(reference, notation)):
            assert build(parse(text, notation), net)[0] == reference, (notation, text)


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_the_rewritten_hidden_layer_form_verifies(act):
    net = Network.uniform(depth="L", activation=act, loss="mse", batch=True)
    v = verify(net, "W_{L-1}", "0 z_{L-1} z_{L-2}^T")
    assert "'" not in v.correct and "⊙" in v.correct
    again = verify(net, "W_{L-1}", v.correct)
    assert again.holds, (v.correct, again.reason)


# -- the LaTeX correct forms compile, in every notation ----------------------------------
PARAMS = {"L": ("W_{L-1}", "delta_L", "W_L"), 3: ("W_1", "delta_2")}


def _latex_forms():
    """(label, LaTeX correct form) for every valid rule pair × notation × parameter."""
    from nets import hidden_for
    forms = []
    for act, loss in _pairs():
        for depth, params in PARAMS.items():
            net = Network.uniform(depth=depth, activation=hidden_for(act), output=act,
                                  loss=loss, batch=depth == 3)
            for notation in PRESETS:
                for param in params:
                    param = param if notation == "hz" else \
                        param.replace("_", "^") if notation in ("gh", "za") else param
                    tex = correct_form(net, param, notation)[1]
                    assert tex, (act, loss, notation, param)
                    forms.append((f"{act}, {loss}, {notation}, {param}", tex))
    return forms + _kind_latex_forms()


#: §1b networks whose forms hold 1 ⊘ sqrt(var_l + ε) and ones vectors: (options, params)
KIND_NETS = [
    (dict(depth=3, norm="layer", dropout=True, weight_decay=True, bias="explicit"),
     ("W_1", "b_1", "gamma_1")),
    (dict(depth=3, norm="batch", batch=True, residual=True), ("W_1", "beta_1")),
    (dict(depth="L", norm="batch", batch=True), ("W_{L-1}",)),
]


def _kind_latex_forms():
    """(label, LaTeX correct form) for every §1b network of KIND_NETS × notation × param."""
    forms = []
    for options, params in KIND_NETS:
        net = Network.uniform(activation="tanh", loss="mse", **options)
        for notation in PRESETS:
            for param in params:
                param = param.replace("_", "^") if notation in ("gh", "za") else param
                tex = correct_form(net, param, notation)[1]
                assert r"\sqrt{" in tex, (options, notation, param)
                forms.append((f"{options}, {notation}, {param}", tex))
    return forms


@pytest.mark.slow
def test_every_latex_correct_form_compiles(tmp_path):
    if shutil.which("pdflatex") is None:
        if IN_CI:
            pytest.fail("pdflatex is required in CI")
        pytest.skip("pdflatex is not installed")
    forms = _latex_forms()
    body = "\n".join(f"% {label}\n\\[ {tex} \\]" for label, tex in forms)
    (tmp_path / "forms.tex").write_text(
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
        f"{body}\n\\end{{document}}\n", encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                          "forms.tex"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    log = run.stdout
    assert run.returncode == 0, log[log.find("!"):][:600]
    assert "Double superscript" not in log and (tmp_path / "forms.pdf").exists()
    assert len(forms) == len(PRESETS) * (len(_pairs()) * sum(map(len, PARAMS.values()))
                                         + sum(len(params) for _, params in KIND_NETS))
