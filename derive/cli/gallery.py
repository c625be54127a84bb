"""The default job: the gallery of the source notes' own networks, in `output/`.

Each entry is written as .tex, .md (with an .svg beside it) and, when pdflatex is
installed, .pdf; `output/README.md` indexes them. Output is deterministic, so the
committed text files can be checked by regenerating them (tests/test_gallery.py).
The gallery owns `output/`: regenerating replaces its files (a file is rewritten only
when its content changes).
"""
import os
from dataclasses import dataclass

from .. import Network, backprop
from ..api import catalogue_derivations
from ..documents.catalogue import render_catalogue
from ..documents.notes import render, render_svg
from ..documents.pdf import compile_pdf, pdflatex_available
from ..util.files import write_atomic


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    source: str
    net: Network
    notation: str


def entries():
    """The gallery: every network the seed notes work through, in their notations."""
    N = Network
    return [
        Entry("000_sigmoid_bce_depth3", "Deep sigmoid network with binary cross-entropy, "
              "depth 3", "000", N.uniform(depth=3, activation="sigmoid", loss="bce"), "hz"),
        Entry("000_sigmoid_bce_depthL", "Deep sigmoid network with binary cross-entropy, "
              "any depth L", "000", N.uniform(depth="L", activation="sigmoid", loss="bce"),
              "hz"),
        Entry("002_one_hidden_sse_augmented", "One hidden layer, squared error, bias "
              "folded into the weights", "002",
              N(activations=("sigmoid", "identity"), loss="sse", bias="augmented"), "gh"),
        Entry("002_N_hidden_linear_output", "N hidden layers and a linear output layer, "
              "row-vector derivatives", "002",
              N.uniform(depth="L", activation="sigmoid", output="identity", loss="sse"),
              "gh"),
        Entry("003_one_node_linear", "A chain of one-node linear layers", "003",
              N(activations=("identity",) * 3, loss="mse", widths=(1, 1, 1, 1)), "pq"),
        Entry("003_one_node_nonlinear", "A chain of one-node sigmoid layers, the input "
              "squashed too", "003",
              N(activations=("sigmoid",) * 3, loss="mse", widths=(1, 1, 1, 1)), "pq"),
        Entry("003_multi_node_linear", "Multi-node linear layers", "003",
              N(activations=("identity",) * 3, loss="mse"), "pq"),
        Entry("003_multi_node_nonlinear", "Multi-node sigmoid layers", "003",
              N(activations=("sigmoid",) * 3, loss="mse"), "pq"),
        Entry("four_fundamental_equations", "The four fundamental equations: explicit "
              "biases, any depth", "standard",
              N.uniform(depth="L", activation="sigmoid", loss="mse", bias="explicit"), "za"),
        Entry("softmax_cce", "Softmax output with categorical cross-entropy", "standard",
              N(activations=("tanh", "softmax"), loss="cce"), "hz"),
    ]


def build(folder="output", pdf=None):
    """Write every gallery entry into ``folder``; returns the paths written."""
    pdf = pdflatex_available() if pdf is None else pdf
    written = []
    lines = ["# Gallery", "",
             "Backpropagation derived by backprop-derive for the networks that the source "
             "notes work through, each in the notation of the note it comes from. "
             "Regenerate with `derive` (no arguments); the PDFs are built only where "
             "pdflatex is installed and are not committed.", "",
             "| network | source | notation | files |", "|---|---|---|---|"]
    for e in entries():
        d = backprop(e.net)
        base = os.path.join(folder, e.name)
        tex = render(d, "latex", e.notation, title=e.title)
        md = render(d, "markdown", e.notation, svg_name=e.name + ".svg", title=e.title)
        files = {".tex": tex, ".md": md, ".svg": render_svg(d, e.notation)}
        if pdf:
            files[".pdf"] = compile_pdf(tex)
        for ext, data in files.items():
            _update(base + ext, data)
            written.append(base + ext)
        links = ", ".join(f"[{ext[1:]}]({e.name}{ext})"
                          for ext in (".md", ".tex", ".svg", ".pdf"))
        lines.append(f"| {e.title} | {e.source} | `{e.notation}` | {links} |")
    written += _catalogue(folder, pdf)
    lines += ["", "The catalogue of matrix derivatives that 003 builds backpropagation on, "
              "each derived in index notation and certified: "
              + ", ".join(f"[{ext[1:]}]({CATALOGUE}{ext})" for ext in (".md", ".tex", ".pdf"))
              + "."]
    _update(os.path.join(folder, "README.md"), "\n".join(lines) + "\n")
    _update(os.path.join(folder, ".gitignore"), "*.pdf\n")
    return written


CATALOGUE = "003_matrix_derivative_catalogue"


def _catalogue(folder, pdf):

    base = os.path.join(folder, CATALOGUE)
    derived = catalogue_derivations()
    tex = render_catalogue("latex", derived)
    files = {".tex": tex, ".md": render_catalogue("markdown", derived)}
    if pdf:
        files[".pdf"] = compile_pdf(tex)
    for ext, data in files.items():
        _update(base + ext, data)
    return [base + ext for ext in files]


def _update(path, data):
    mode = "rb" if isinstance(data, bytes) else "r"
    if os.path.exists(path):
        with open(path, mode, **({} if mode == "rb" else {"encoding": "utf-8"})) as fh:
            if fh.read() == data:
                return
    write_atomic(path, data, force=True)


def main(args=None):
    folder = getattr(args, "output", None) or "output"
    paths = build(folder)
    print(f"wrote the gallery: {len(paths)} files in {folder}/ (index: {folder}/README.md)")
    return 0
