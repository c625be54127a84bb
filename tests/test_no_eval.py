"""No user text is ever evaluated (ISSUE 7.2).

Two halves:

- a static check: an AST walk of every ``derive/*.py`` flags calls to ``eval``, ``exec``,
  ``compile``, ``__import__``, ``parse_expr``, ``parse_latex`` and imports from
  ``sympy.parsing``, and calls to ``sympify``/``S`` whose argument is not a literal
  (``_sympify``, SymPy's strict form, refuses strings and is allowed). The one internal
  exception is listed in ALLOWED with the reason; an entry that no longer matches
  anything fails too, so the list cannot go stale;
- a fuzz of both parsers, the claim parser (`derive.claims.grammar.parse`, and `verify` behind
  it) and the custom-activation parser (`derive.spec.custom.parse_custom`): random strings
  and random well-formed expressions. Only `derive.DeriveError` subclasses may escape;
  well-formed input must parse.
"""
import ast
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Basic, Symbol

from derive import ClaimError, DeriveError, Network, SpecError, verify
from derive.claims.grammar import NAMES, parse
from derive.claims.network_build import build
from derive.claims.shapes import ShapeMismatch
from derive.spec.custom import parse_custom

PACKAGE = Path(__file__).resolve().parent.parent / "derive"

#: calls that run or parse code, whatever their argument (unless it is a literal)
RUNS_CODE = {"eval", "exec", "compile", "__import__", "parse_expr", "parse_latex"}
#: calls that parse a string argument as SymPy code
PARSES_STRINGS = {"sympify", "S"}

#: (file, enclosing function, callee) -> why it is safe. Keep this list short.
ALLOWED = {
    # The NumPy exporter runs the module it has just generated from the derivation
    # (templates/numpy/module.py.j2 filled with printed SymPy expressions and reprs);
    # no user text reaches it except as repr() string literals.
    ("module.py", "GradientModule.__init__", "exec"): "runs generated code",
    ("module.py", "GradientModule.__init__", "compile"): "compiles generated code",
    # the framework exports (torch, jax, array API, a catalogue's f_and_grad) likewise run
    # their generated module, on first use
    ("targets.py", "ExportedModule.module", "exec"): "runs generated code",
    ("targets.py", "ExportedModule.module", "compile"): "compiles generated code",
    # the NumPy module of a network of calls (templates/numpy/graph_module.py.j2 or
    # rnn_module.py.j2 filled with printed SymPy expressions), likewise
    ("graph_module.py", "GraphModule.__init__", "exec"): "runs generated code",
    ("graph_module.py", "GraphModule.__init__", "compile"): "compiles generated code",
}


def _callee(node):
    """The called name: ``eval`` for eval(…) and builtins.eval(…), ``sympify`` for
    sympy.sympify(…); None for re.compile(…), which compiles a pattern, not code."""
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        if func.attr == "compile":
            owner = func.value
            return "compile" if isinstance(owner, ast.Name) and owner.id == "builtins" else None
        return func.attr
    return None


def _literal(node):
    try:
        ast.literal_eval(node)
    except ValueError:
        return False
    return True


def findings(source, filename="<test>"):
    """[(filename, function, callee, line)] for every suspicious call or import."""
    out = []

    def visit(node, scope):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = f"{scope}.{node.name}" if scope else node.name
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sympy.parsing"):
            out.append((filename, scope, "import " + node.module, node.lineno))
        if isinstance(node, ast.ImportFrom) or isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[-1] in RUNS_CODE | PARSES_STRINGS and alias.asname:
                    out.append((filename, scope, f"alias {alias.name}", node.lineno))
        if isinstance(node, ast.Call):
            name = _callee(node)
            args = list(node.args) + [k.value for k in node.keywords]
            if name in RUNS_CODE | PARSES_STRINGS and not all(_literal(a) for a in args):
                out.append((filename, scope, name, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child, scope)

    visit(ast.parse(source), "")
    return out


def test_the_checker_flags_what_it_should():
    flagged = {f[2] for f in findings(
        "import sympy\n"
        "from sympy.parsing.sympy_parser import parse_expr\n"
        "from sympy import sympify as sp\n"
        "def f(text):\n"
        "    eval(text); exec(text); sympy.sympify(text); S(text); parse_expr(text)\n"
        "    getattr(x, 'y').parse_latex(text); builtins.compile(text, 'f', 'exec')\n")}
    assert flagged == {"eval", "exec", "sympify", "S", "parse_expr", "parse_latex", "compile",
                       "import sympy.parsing.sympy_parser", "alias sympify"}
    assert findings("S(1); S('1/2'); _sympify(v); __import__('sys'); sympify(2)\n"
                    "re.compile(pattern)\n") == []
    assert [f[2] for f in findings("compile(text, 'f', 'exec')")] == ["compile"]


def test_no_package_module_evaluates_text():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += findings(path.read_text(encoding="utf-8"), path.name)
    unexplained = [f for f in found if f[:3] not in ALLOWED]
    assert unexplained == [], "calls that may evaluate text: " + repr(unexplained)
    stale = set(ALLOWED) - {f[:3] for f in found}
    assert not stale, f"ALLOWED entries that match nothing any more: {stale}"


# --- the claim parser ------------------------------------------------------------------
NET = Network(activations=("tanh", "sigmoid"), loss="bce", widths=(2, 3, 1))
NETL = Network.uniform(depth="L", activation="tanh", output="sigmoid", loss="bce")
TOKENS = list("zWhyxbLl_{}()[]^T'-+*/@.0123 ⊙σδᵀ·−\\|,$\"`;\n\t") + [
    "delta", "sigma", "\\top", "\\odot", "\\mathbf{z}", ".*", ".T", "\\frac", "exp", "log",
    "__import__", "().__class__", "os.system", "lambda", "\\input", "\\left(", "‖", "tr",
    "sqrt", "\\sqrt", "\\sqrt[", "⊘", "\\oslash", "./", ".^", "^{∘", "\\mathbf{1}", "epsilon"]

names = st.sampled_from(["z", "h", "W", "delta", "b", "\\mathbf{z}", "δ", "\\delta"])
layers = st.sampled_from(["1", "2", "L", "{L-1}", "{L-2}", "0", "3", "9", "l", "{l+1}"])
leaves = st.one_of(st.tuples(names, layers).map(lambda t: f"{t[0]}_{t[1]}"),
                   st.sampled_from(["y", "x", "1", "2", "0.5", "n_2"]))
ops = st.sampled_from([" + ", " - ", " ", " @ ", " ⊙ ", " * ", " / ", " .* ", " \\odot ",
                       " ⊘ ", " ./ ", " \\oslash "])
funcs = st.sampled_from(["σ", "sigma", "\\sigma", "tanh", "exp", "log", "sigmoid", "relu",
                         "sqrt", "\\sqrt"])


def _claims(inner):
    return st.one_of(
        st.tuples(inner, ops, inner).map(lambda t: f"({t[0]}){t[1]}({t[2]})"),
        st.tuples(inner, st.sampled_from(["^T", "ᵀ", ".T", "^\\top", "^{-1}", "^2", "^{∘2}",
                                          ".^2", ".^{-1}", "^{\\circ 3}"])).map(
            lambda t: f"({t[0]}){t[1]}"),
        st.tuples(funcs, st.sampled_from(["", "'"]), inner).map(
            lambda t: f"{t[0]}{t[1]}({t[2]})"),
        inner.map(lambda s: f"-({s})"),
        st.tuples(inner, inner).map(lambda t: f"\\frac{{{t[0]}}}{{{t[1]}}}"))


well_formed_claims = st.recursive(leaves, _claims, max_leaves=8)


@settings(max_examples=examples(400))
@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(TOKENS), max_size=40)
                 .map("".join)), st.sampled_from(sorted(NAMES)))
def test_claim_parser_raises_only_claim_errors(text, notation):
    try:
        tree = parse(text, notation)
    except ClaimError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(tree, tuple)


@settings(max_examples=examples(300))
@given(well_formed_claims)
def test_well_formed_claims_parse_and_build_or_name_the_problem(text):
    tree = parse(text)          # well-formed: must parse
    for net in (NET, NETL):
        try:
            expr, shape = build(tree, net)
        except (ClaimError, ShapeMismatch):   # ShapeMismatch becomes a Verdict in verify
            continue
        assert isinstance(expr, Basic)


@pytest.mark.slow
@settings(max_examples=examples(40))
@given(well_formed_claims, st.sampled_from(["W_2", "W_1", "delta_1", "z_1", "W_L", "b_1"]))
def test_verify_returns_a_verdict_or_raises_our_error(text, param):
    for net in (NET, NETL):
        try:
            v = verify(net, param, text, points=1)
        except DeriveError as exc:
            assert "\n" not in str(exc)
            continue
        assert isinstance(v.holds, bool) and v.reason


# --- the custom-activation parser --------------------------------------------------------
X = Symbol("x", real=True)
CUSTOM_TOKENS = list("xe0123456789.+-*/^() _,;'\"[]!\n") + [
    "pi", "exp", "log", "tanh", "sqrt", "sin", "cos", "**", "9^9^9", "__import__",
    "().__class__", "lambda", "os", "system", "x.real", "import"]

c_leaves = st.one_of(st.sampled_from(["x", "e", "pi", "0.5", ".5"]),
                     st.integers(0, 12).map(str))
c_ops = st.sampled_from(["+", "-", "*", "/", "^", "**"])


def _customs(inner):
    return st.one_of(
        st.tuples(inner, c_ops, inner).map(lambda t: f"({t[0]}){t[1]}({t[2]})"),
        st.tuples(st.sampled_from(["exp", "log", "tanh", "sqrt", "sin", "cos"]), inner).map(
            lambda t: f"{t[0]}({t[1]})"),
        inner.map(lambda s: f"-({s})"),
        st.lists(inner, min_size=2, max_size=4).map(   # a power tower, right-associative
            lambda xs: "^".join(f"({s})" for s in xs)))


well_formed_customs = st.recursive(c_leaves, _customs, max_leaves=10)


@settings(max_examples=examples(400))
@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(CUSTOM_TOKENS), max_size=40)
                 .map("".join)))
def test_custom_parser_raises_only_spec_errors(text):
    try:
        value = parse_custom(text, X)
    except SpecError as exc:
        assert "\n" not in str(exc) and "custom activation" in str(exc)
        return
    assert X in value.free_symbols


@settings(max_examples=examples(300))
@given(well_formed_customs)
def test_well_formed_customs_parse_or_say_why_not(text):
    try:
        value = parse_custom(text, X)
    except SpecError as exc:     # constant, undefined (log 0) or a huge exact power
        assert any(w in str(exc) for w in ("does not depend on x", "undefined",
                                            "exponent larger", "too large")), str(exc)
        return
    assert isinstance(value, Basic) and X in value.free_symbols


def test_fuzz_found_cases_stay_fixed():
    """Inputs that once hung or escaped: each now a prompt SpecError."""
    for text in ("x*9^9^9", "x^(9^9^9)", "x*((9^999)^999)^999", "x^exp(9)"):
        with pytest.raises(SpecError, match="exponent larger|too large"):
            parse_custom(text, X)
    assert parse_custom("x^1000 + 9^999", X).has(X)
    # once a TypeError: 0^((-2e)^e) stays unevaluated, its size is zoo, and zoo > 1000 raised
    # and zoo^(-e), whose size is nan
    for text in ("(x)^(sin(pi))^(-((e)+(e)))^(e)", "(x)^(-(log(0)))^(-(e))"):
        with pytest.raises(SpecError, match="is undefined"):
            parse_custom(text, X)
