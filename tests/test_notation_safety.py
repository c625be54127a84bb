"""User notation symbols cannot break the LaTeX (ISSUE 7.3).

The override dict of `render` (``notation={"loss": r"\\mathcal{L}", …}``) is the only
way users pass symbols (the command line takes preset names only). Values outside the
small grammar of `derive.printing.notation._Symbol` raise SpecError naming the key; accepted
values, wherever the printer puts them (bold, with a layer index, in a fraction),
compile with pdflatex.
"""
import shutil

import pytest
from conftest import IN_CI, examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive import Network, SpecError, backprop, render
from derive.documents.pdf import compile_pdf
from derive.printing.latex import NotesLatexPrinter
from derive.printing.notation import check_symbol

D = backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce", bias="explicit"))

BAD = ["}", "{", "{}", "J_", "x^", "J^^5cinput{x}", "^^5c", "x_1_2", "x^1^2", "x^2'", "''",
       r"\write18", r"\input{x}", r"\hat", r"\mathrm{}", r"\hat{}", "J\n\nK", "J\tK", "$J$",
       "a&b", "50%", "#1", "~", "\\", r"\\", "J}{", "σ", "x" * 41, "", "   ", 3, None,
       "x'^2", "x'_{a}^{a}", r"\hat{\hat a \hat a}",
       r"\mathbf{W}", r"\text{W}", r"\catcode", "W_{", "W_}"]


@pytest.mark.parametrize("value", BAD, ids=[repr(v)[:24] for v in BAD])
def test_unsafe_symbols_are_refused_naming_the_key(value):
    with pytest.raises(SpecError) as info:
        render(D, "latex", notation={"preset": "hz", "loss": value})
    message = str(info.value)
    assert "notation override 'loss'" in message and "not a safe LaTeX symbol" in message
    assert "\n" not in message


def test_unknown_keys_are_refused_naming_the_allowed_ones():
    with pytest.raises(SpecError, match="'title' is not a symbol name; allowed: pre"):
        render(D, "latex", notation={"title": "x"})


GOOD = ["J", r"\mathcal{L}", r"\hat{y}", r"\hat y", "W_1", "W^{a}", "x'", "x'_2", r"\ell",
        "AB", r"\mathrm{err}", r"\tilde{\mathsf{x}}", r"\bar{W}_{\alpha}^{2}", r"{W}_{1}",
        r"\alpha a", "x''"]


@pytest.mark.parametrize("value", GOOD)
def test_safe_symbols_are_accepted(value):
    checked = check_symbol("loss", value)      # the same symbol, at most grouped by {…{}}
    assert checked.replace("{}", "") in (value, "{" + value + "}")
    assert checked == value or any(c in value for c in "_^'")


def _pdflatex_or_skip():
    if shutil.which("pdflatex") is None:
        if IN_CI:
            pytest.fail("pdflatex is required in CI")
        pytest.skip("pdflatex is not installed")


@pytest.mark.parametrize("preset", ["hz", "gh", "pq", "za"])
def test_documents_with_unusual_but_safe_symbols_compile(preset):
    _pdflatex_or_skip()
    symbols = {"preset": preset, "loss": r"\mathcal{L}'_{x}", "weight": "W_1",
               "pre": r"\hat a^{2}", "post": "z'", "bias": r"\beta", "delta": r"\mathrm{err}",
               "target": r"\tilde{y}", "width": "N_0", "rate": r"\eta'",
               "input": r"\mathsf{x}"}
    d = backprop(Network.uniform(depth="L", activation="sigmoid", loss="bce",
                                 bias="explicit"))
    tex = render(d, "latex", notation=symbols)
    assert r"{W_1{}}" in tex and r"{\mathcal{L{}}'_{x}{}}" in tex
    assert compile_pdf(tex, runs=1).startswith(b"%PDF")


# --- random symbols ----------------------------------------------------------------------
PIECES = st.sampled_from(list("abxyzWJL0129{}_^' ") + [
    "\\alpha", "\\hat", "\\mathrm", "\\mathcal", "\\tilde", "\\write", "\\input", "\\\\",
    "$", "%", "&", "#", "~", "\n"])


@settings(max_examples=examples(500))
@given(st.lists(PIECES, max_size=12).map("".join))
def test_random_text_is_refused_or_structurally_safe(text):
    try:
        checked = check_symbol("pre", text)
    except SpecError:
        return
    depth = 0
    for c in checked:
        depth += {"{": 1, "}": -1}.get(c, 0)
        assert depth >= 0
    assert depth == 0
    assert not any(c in checked for c in "$%&#~\n")
    assert "^^" not in checked.replace(" ", "") and not checked.rstrip().endswith(("_", "^"))
    for cmd in ("\\write", "\\input", "\\\\"):
        assert cmd not in checked


def _item(parts):
    command, base, suffix, args = parts
    text = command + (" " if command and not base.startswith("{") else "") + base
    for c, arg in zip(suffix, args):
        text += c if c == "'" else f"{c}{{{arg}}}"
    return text


def _symbols(args):
    """Symbols of the grammar whose arguments come from ``args``."""
    items = st.tuples(st.sampled_from(["", "\\hat", "\\mathrm", "\\tilde"]), args,
                      st.sampled_from(["", "'", "''", "'_", "_", "^", "_^", "^_"]),
                      st.lists(args, min_size=2, max_size=2)).map(_item)
    return st.lists(items, min_size=1, max_size=2).map(" ".join)


LETTERS = st.sampled_from(list("aWz1") + ["\\alpha", "\\ell"])
def _accepted(text):
    try:
        check_symbol("weight", text)
    except SpecError:
        return False
    return True


#: near-grammar symbols that check_symbol accepts (the property: accepted => compiles)
symbols = _symbols(st.one_of(LETTERS, _symbols(LETTERS).map(lambda s: "{" + s + "}"))).filter(
    _accepted)


@pytest.mark.slow
@settings(max_examples=examples(12),   # pdflatex is slow: a few
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(symbols)
def test_random_well_formed_symbols_compile_where_the_printer_puts_them(symbol):
    _pdflatex_or_skip()
    s = check_symbol("weight", symbol)
    bold = NotesLatexPrinter._bold(s)
    body = (f"${s}_{{l}} + {s}^{{l}}_{{i}} + {bold}_{{2}} + "
            f"\\frac{{\\partial {s}}}{{\\partial {s}_{{l-1}}}}$")
    tex = ("\\documentclass{article}\\usepackage{amsmath,amssymb}\\begin{document}"
           + body + "\\end{document}")
    assert compile_pdf(tex, runs=1).startswith(b"%PDF")
