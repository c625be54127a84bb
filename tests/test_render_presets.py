"""Each preset's own conventions (SPEC §4): the forms a preset's source note reaches."""
from derive import Network, backprop, render
from derive.documents.notes import context
from derive.ir.nodes import Var
from derive.printing.latex import NotesLatexPrinter

BCE = dict(activation="sigmoid", loss="bce")
HEADING = "From the last weight matrix to the one before"


def _tex(d, expr, notation="hz"):
    depth = None if d.net.symbolic else d.net.depth
    return NotesLatexPrinter(dict(notation=notation, depth=depth, human=True)).doprint(expr)


def test_hz_answers_the_thread_for_both_000_networks():
    for depth in (3, "L"):
        d = backprop(Network.uniform(depth=depth, **BCE))
        L = d.net.L
        answer = context(d, "hz")["answer"]
        reuse = [line["rhs"] for line in answer["reuse"]["lines"]]
        below = d.grad("W", L - 1).xreplace({Var("delta", L - 1, d.net.width(L - 1), 1):
                                             d.delta(L - 1)})
        assert _tex(d, below) in reuse                      # δ_L reappears in ∂J/∂W_{L-1}
        assert _tex(d, d.grad("W", L)) == reuse[0]
        division = [line["rhs"] for line in answer["division"]["lines"]]
        assert _tex(d, d.dJdz(L)) in division[1] and r"\oslash" in division[1]
        assert division[-1] == _tex(d, d.delta(L)) and r"\oslash" not in division[-1]
        for fmt in ("latex", "markdown"):
            text = render(d, fmt, "hz")
            assert HEADING in text and "small constant" in text
            assert text.count(division[0]) >= 1 and text.count(reuse[-1]) == 1


def test_hz_answer_only_where_the_cancellation_happens():
    assert context(backprop(Network.uniform(depth=3, activation="sigmoid", loss="mse")),
                   "hz")["answer"] is None
    d = backprop(Network.uniform(depth=3, **BCE))
    for notation in ("gh", "pq", "za"):
        assert HEADING not in render(d, "markdown", notation)
    assert HEADING not in render(d, "markdown", "hz", detail="brief")
    assert context(backprop(Network.uniform(depth=1, **BCE)), "hz")["answer"] is None
