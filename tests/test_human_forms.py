"""Human forms: each rewrite rule alone (a table of rule, input, expected), the rules
in order (`humanize`), and what `NotesLatexPrinter` prints with ``human`` on (and off,
the default, which the committed gallery depends on)."""
import pytest
from sympy import Heaviside, IndexedBase, Mul, OneMatrix, Symbol, Transpose, ZeroMatrix, exp, log, simplify, tanh
from sympy.matrices.expressions import MatAdd, MatMul

from derive import Network, backprop
from derive.ir.nodes import Act, Var
from derive.printing.human_forms import RULES, InOrder, common_number, humanize, one_plus_exp, transpose_of_sum
from derive.printing.latex import latex
from derive.spec import rules

x, f, y, u = (Symbol(s) for s in "xfyu")
n = Symbol("n")
yv, zv = Var("y", 2, n, 1), Var("z", 2, n, 1)
f_k, y_k = IndexedBase("f")[Symbol("k")], IndexedBase("y")[Symbol("k")]

TABLE = [
    # (rule, input, expected)
    (one_plus_exp, 1 / (exp(-x) + 1), 1 / InOrder(1, exp(-x))),
    (one_plus_exp, exp(-x) / (exp(-x) + 1) ** 2, exp(-x) / InOrder(1, exp(-x)) ** 2),
    (one_plus_exp, log(exp(x) + 1), log(InOrder(1, exp(x)))),
    (one_plus_exp, x + 1, x + 1),                                  # not exponentials
    (one_plus_exp, exp(x) + exp(-x), exp(x) + exp(-x)),            # no number
    (common_number, 2 * f - 2 * y, Mul(2, f - y, evaluate=False)),
    (common_number, 2 * f_k - 2 * y_k, Mul(2, f_k - y_k, evaluate=False)),
    (common_number, 6 * f + 4 * y, Mul(2, 3 * f + 2 * y, evaluate=False)),
    (common_number, f - y, f - y),                                 # nothing shared
    (common_number, 2 * f - y, 2 * f - y),
    (common_number, f / 2 + y / 2, f / 2 + y / 2),                # whole numbers only
    (transpose_of_sum, MatAdd(OneMatrix(1, n), -Transpose(yv)),
     Transpose(MatAdd(OneMatrix(n, 1), -yv))),
    (transpose_of_sum, MatAdd(Transpose(zv), -Transpose(yv)), Transpose(MatAdd(zv, -yv))),
    (transpose_of_sum, MatAdd(OneMatrix(n, 1), -yv), MatAdd(OneMatrix(n, 1), -yv)),  # columns
    (transpose_of_sum, MatMul(MatAdd(Transpose(zv), -Transpose(yv)), zv),
     MatMul(Transpose(MatAdd(zv, -yv)), zv)),
]


@pytest.mark.parametrize("rule, before, after", TABLE,
                         ids=[f"{r.__name__}-{k}" for k, (r, _, _) in enumerate(TABLE)])
def test_each_rule_alone(rule, before, after):
    got = rule(before)
    assert got == after
    diff = got.doit() - before
    assert diff == ZeroMatrix(*diff.shape) if diff.is_Matrix else simplify(diff) == 0


def test_the_rules_are_named_and_ordered():
    assert [name for name, _ in RULES] == ["one_plus_exp", "common_number",
                                           "transpose_of_sum"]
    assert all(rule.__name__ == name and rule.__doc__ for name, rule in RULES)


PRINTED = [
    # (expression, printed with human=True, printed by default)
    (1 / (1 + exp(-x)), r"\frac{1}{1 + e^{- x}}", r"\frac{1}{e^{- x} + 1}"),
    (2 * f_k - 2 * y_k, r"2 \left({f}_{k} - {y}_{k}\right)", r"2 {f}_{k} - 2 {y}_{k}"),
    (MatMul(-1, MatAdd(OneMatrix(1, n), -Transpose(yv)), Act("log", MatAdd(OneMatrix(n, 1),
                                                                          -zv))),
     r"-\left(\mathbf{1} - \mathbf{y}\right)^{\top} \log(\mathbf{1} - \mathbf{z}_{2})",
     r"-\left(\mathbf{1}^{\top} - \mathbf{y}^{\top}\right) \log(\mathbf{1} - \mathbf{z}_{2})"),
    (Heaviside(x, 0), r"\operatorname{H}(x)", r"\theta\left(x, 0\right)"),
    (Heaviside(x), r"\operatorname{H}(x)", r"\theta\left(x\right)"),
    (1 - tanh(x) ** 2, r"1 - \tanh^{2}\left(x\right)", r"1 - \tanh^{2}{\left(x \right)}"),
    (log(1 + exp(x)), r"\log\left(1 + e^{x}\right)", r"\log{\left(e^{x} + 1 \right)}"),
]


@pytest.mark.parametrize("expr, human, default", PRINTED)
def test_notes_printer_prints_the_human_form_only_when_asked(expr, human, default):
    assert latex(expr, human=True) == human
    assert latex(expr) == default


def test_the_activation_rows_in_human_form():
    sig = rules.activation("sigmoid")
    assert latex(sig.forward.xreplace({rules.x: x}), human=True) == r"\frac{1}{1 + e^{- x}}"
    assert latex(sig.derivative.xreplace({rules.x: x}), human=True) == \
        r"\frac{e^{- x}}{\left(1 + e^{- x}\right)^{2}}"
    relu = rules.activation("relu")
    assert latex(relu.derivative.xreplace({rules.x: x}), human=True) == r"\operatorname{H}(x)"
    assert latex(relu.derivative_out.xreplace({rules.u: u}), human=True) == \
        r"\operatorname{H}(u)"


def test_humanize_keeps_every_step_of_a_derivation_equal():
    d = backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce"))
    for step in d.steps:
        rhs = humanize(step.rhs)
        if rhs != step.rhs and not rhs.is_Matrix:
            assert simplify(rhs.doit() - step.rhs.doit()) == 0
        latex(step.rhs, human=True)        # every step prints
