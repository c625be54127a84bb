"""The prose of the documents: no sentence three times in one document, and every
lead-in says only what its equation shows.

Sentences come from a Markdown parser (markdown-it-py with the dollarmath plugin): inline
math becomes one placeholder and digits another, so sentences that differ only in their
numbers or formulas count as the same sentence. Tables, headings, the algorithm box
(a block quote) and display math are not prose.
"""
import re
from collections import Counter

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from derive import backprop, render
from derive.api import catalogue_derivations
from derive.cli.gallery import entries
from derive.documents.catalogue import render_catalogue
from derive.documents.notes import context
from derive.printing.notation import PRESETS
from derive.util.templates import environment

GALLERY = entries()
#: the §1 networks' documents (a network of calls has its own lead-ins and refuses the
#: numerator layout: tests/test_graph_notes.py)
MLP_GALLERY = [e for e in GALLERY if not isinstance(getattr(e.net, "arch", None), str)]


def sentences(markdown):
    md = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin)
    out, skip = [], 0
    for tok in md.parse(markdown):
        if tok.type in ("blockquote_open", "table_open", "heading_open"):
            skip += 1
        elif tok.type in ("blockquote_close", "table_close", "heading_close"):
            skip -= 1
        elif tok.type == "inline" and not skip:
            text = "".join("M" if c.type == "math_inline" else c.content
                           for c in tok.children or [])
            text = re.sub(r"\d+", "N", text)
            out += [s.strip() for s in re.split(r"(?<=[.:;?!])\s+", text) if s.strip()]
    return out


def _repeats(markdown):
    return [(s, n) for s, n in Counter(sentences(markdown)).items() if n >= 3]


def test_sentences_are_split_and_normalised():
    found = sentences("A $x$ is 2. A $y$ is 3.\n\n> A b. A b. A b.\n\n| a. | b. |\n|---|---|\n")
    assert found == ["A M is N.", "A M is N."]


@pytest.mark.parametrize("notation", sorted(PRESETS))
@pytest.mark.parametrize("entry", GALLERY, ids=lambda e: e.name)
def test_no_sentence_three_times(entry, notation):
    md = render(backprop(entry.net), "markdown", notation, title=entry.title)
    assert not _repeats(md)


def test_no_sentence_three_times_in_the_catalogue():
    assert not _repeats(render_catalogue("markdown", catalogue_derivations(), certify=False))


# -- every lead-in is true of its equation ----------------------------------------------
def _display_tex(b):
    return " ".join(line["lhs"] + " " + line["rhs"] for line in b["lines"])


#: (a phrase of a lead-in, a check of the display it introduces)
CLAIMS = [
    ("entrywise product", lambda b, ctx: r"\odot" in _display_tex(b)),
    ("indicator", lambda b, ctx: r"\mathbb{I}[" in _display_tex(b)),
    ("transposed weights", lambda b, ctx: r"\top" in _display_tex(b)),
    ("outer product", lambda b, ctx: r"\top" in b["rhs"]),
    ("single weight", lambda b, ctx: ("W" in b["rhs"] or "w_{" in b["rhs"]) and r"\sum" not in b["rhs"]
     and r"\mathbb{I}" not in b["rhs"]),
    ("full matrix", lambda b, ctx: "softmax" in ctx["net"]["activations"]),
    ("softmax", lambda b, ctx: "softmax" in ctx["net"]["activations"]),
    ("no division is left", lambda b, ctx: r"\frac" not in b["rhs"]
     and r"\oslash" not in b["rhs"]),
    ("layer above gave us", lambda b, ctx: _above_error(b, ctx) in b["lines"][-1]["rhs"]),
    ("through the pre-activations of layer", lambda b, ctx: b["up"] in _display_tex(b)),
    ("bias", lambda b, ctx: b["kind"] in ("db", "linb", "wbar")     # wbar: the engine's note
     or (b["kind"] == "decay" and r"\mathbf{b}" not in _display_tex(b))),   # not decayed
    ("squared Frobenius norm", lambda b, ctx: r"\rVert_{F}^{2}" in b["lines"][1]["rhs"]),
    ("lists the layers one by one", lambda b, ctx: b["lines"][2]["rhs"].count(r"\lVert")
     == ctx["net"]["depth"]),
    # the chain first differentiates the data loss alone, then adds the penalty's term
    ("in the penalty of", lambda b, ctx: r"\lambda" in b["lines"][-1]["rhs"]
     and any(r"\text{data}" in line["lhs"] and r"\lambda" not in line["rhs"]
             for line in b["lines"][:-1])),
]


def _above_error(b, ctx):
    """The printed error of the layer above: bold δ with its layer, or in a one-node
    document (errors numbered from the output down, as in 003) δ_{L - layer}."""
    if ctx["scalars"]:
        return rf"\delta_{{{ctx['net']['depth'] - int(b['up'])}}}"
    if b["up"] not in b["lines"][-1]["rhs"]:
        return r"\delta} (layer above)"
    # numerator layout: the row ∂J/∂h of the layer above (printed as a bare fraction)
    return r"\partial \mathbf{" if ctx["nt"]["rowvec"] else r"\delta}"


def _lead_ins(entry, notation):
    ctx = context(backprop(entry.net), notation, fmt="markdown", title=entry.title)
    env = environment("latex")
    for name in ("loss", "output", "hidden", "below"):
        for b in ctx["sections"][name]:
            text = env.get_template(f"notes/steps/{b['kind']}.j2").render(ctx, b=b)
            yield b, ctx, text


@pytest.mark.parametrize("notation", sorted(PRESETS))
@pytest.mark.parametrize("entry", MLP_GALLERY, ids=lambda e: e.name)
def test_every_lead_in_is_true_of_its_equation(entry, notation):
    checked = 0
    for b, ctx, text in _lead_ins(entry, notation):
        assert text.strip(), b["kind"]
        for phrase, holds in CLAIMS:
            if phrase in text:
                checked += 1
                assert holds(b, ctx), (phrase, text, _display_tex(b)[:300])
    assert checked


# -- no empty justification cell -----------------------------------------------------------
@pytest.mark.parametrize("entry", MLP_GALLERY, ids=lambda e: e.name)
@pytest.mark.parametrize("fmt", ["latex", "markdown"])
@pytest.mark.parametrize("layout", [None, "numerator"])
def test_no_empty_justification_cell(entry, fmt, layout):
    """The first line of a chain has nothing to justify: it gets no ``\\text{}`` cell."""
    text = render(backprop(entry.net), fmt, entry.notation, layout=layout)
    assert r"\text{}" not in text and "&& \\\\" not in text


def test_no_empty_justification_cell_in_the_catalogue():
    for fmt in ("latex", "markdown"):
        assert r"\text{}" not in render_catalogue(fmt, catalogue_derivations(), certify=False)
