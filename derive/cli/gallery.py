"""The default job: the gallery of the source notes' own networks, in `output/`.

Each entry is written as .tex, .md (with an .svg beside it) and, when pdflatex is
installed, .pdf; `output/README.md` indexes them. Output is deterministic, so the
committed text files can be checked by regenerating them (tests/test_gallery.py).
The gallery owns the files it wrote, and only those: `output/.gallery-manifest` lists
them, and regenerating replaces them (a file is rewritten only when its content
changes). Any other file in the way is left alone and named (``--force`` replaces it;
a file already holding exactly what the gallery would write is adopted). A folder, a
FIFO or a device in the way stops the job before anything is written. Progress goes to
stderr, one line per document, or a bar when stderr is a terminal.
"""
import os
import sys
from dataclasses import dataclass

from .. import Network, backprop
from ..api import catalogue_derivations
from ..documents.catalogue import render_catalogue
from ..documents.notes import render, render_svg
from ..documents.pdf import compile_pdf, pdflatex_available
from ..errors import DeriveError
from ..util.files import kind_of, write_atomic
from .errata import ERRATA_FILE, errata_markdown


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
        Entry("kinds_residual_mlp", "A residual MLP with dropout and weight decay",
              "standard", N.uniform(depth=3, activation="relu", loss="mse", residual=True,
                                    dropout=True, weight_decay=True, bias="explicit"), "hz"),
        Entry("kinds_layer_norm", "Layer normalization over a batch", "standard",
              N.uniform(depth=3, activation="tanh", loss="mse", norm="layer",
                        bias="explicit", batch=True), "hz"),
        Entry("kinds_batch_norm", "Batch normalization with a sigmoid output", "standard",
              N.uniform(depth=3, activation="sigmoid", loss="bce", norm="batch",
                        bias="explicit", batch=True), "za"),
        Entry("cnn_1d", "A 1-D convolutional network: one convolution, max pooling, a "
              "dense head", "standard", N.conv1d(channels=(1, 2), kernel=3, pool="max",
                                                 length=8, head_widths=(3,)), "hz"),
        Entry("cnn_2d", "A 2-D convolutional network: one convolution, max pooling, a "
              "dense head", "standard", N.conv2d(channels=(1, 2), kernel=3, pool="max",
                                                 size=(6, 6), head_widths=(3,)), "hz"),
        Entry("transformer_block", "A pre-norm transformer block: one causal attention head, "
              "the MLP, a per-token head", "standard",
              N.transformer(blocks=1, heads=1, causal=True), "hz"),
        Entry("attention_multihead", "Self-attention with two heads (not causal) in a "
              "pre-norm transformer block", "standard",
              N.transformer(blocks=1, heads=2, causal=False), "hz"),
        Entry("rnn_bptt", "A tanh RNN through three steps, the loss at every step",
              "standard", N.rnn("tanh", steps=3), "hz"),
        Entry("lstm", "An LSTM through three steps", "standard", N.rnn("lstm", steps=3), "hz"),
        Entry("gru", "A GRU through three steps", "standard", N.rnn("gru", steps=3), "hz"),
    ]


MANIFEST = ".gallery-manifest"
CATALOGUE = "003_matrix_derivative_catalogue"
DOCUMENT_EXTENSIONS = (".tex", ".md", ".svg")


def targets(pdf):
    """Every file name the gallery writes, in order."""
    ext_pdf = (".pdf",) if pdf else ()
    names = [e.name + ext for e in entries() for ext in DOCUMENT_EXTENSIONS + ext_pdf]
    names += [CATALOGUE + ext for ext in (".tex", ".md") + ext_pdf]
    return names + [ERRATA_FILE, "README.md", ".gitignore", MANIFEST]


def build(folder="output", pdf=None, force=False, progress=None):
    """Write every gallery entry into ``folder``; returns the paths written (or already
    up to date). Files the gallery does not own are left alone: see `Owner`."""
    pdf = pdflatex_available() if pdf is None else pdf
    owner = Owner(folder, force)
    owner.check_in_the_way(targets(pdf))
    progress = progress or Progress(len(entries()) + 2, stream=None)
    lines = ["# Gallery", "",
             "Backpropagation derived by backprop-derive for the networks that the source "
             "notes work through, each in the notation of the note it comes from. "
             "Regenerate with `derive` (no arguments); the PDFs are built only where "
             "pdflatex is installed and are not committed.", "",
             "| network | source | notation | files |", "|---|---|---|---|"]
    for e in entries():
        progress.step(os.path.join(folder, e.name))
        d = backprop(e.net)
        tex = render(d, "latex", e.notation, title=e.title)
        md = render(d, "markdown", e.notation, svg_name=e.name + ".svg", title=e.title)
        files = {".tex": tex, ".md": md, ".svg": render_svg(d, e.notation)}
        if pdf:
            files[".pdf"] = compile_pdf(tex)
        for ext, data in files.items():
            owner.update(e.name + ext, data)
        links = ", ".join(f"[{ext[1:]}]({e.name}{ext})"
                          for ext in (".md", ".tex", ".svg", ".pdf"))
        lines.append(f"| {e.title} | {e.source} | `{e.notation}` | {links} |")
    progress.step(os.path.join(folder, CATALOGUE))
    _catalogue(owner, pdf)
    progress.step(os.path.join(folder, ERRATA_FILE))
    owner.update(ERRATA_FILE, errata_markdown())
    progress.done()
    lines += ["", "The catalogue of matrix derivatives that 003 builds backpropagation on, "
              "each derived in index notation and certified: "
              + ", ".join(f"[{ext[1:]}]({CATALOGUE}{ext})" for ext in (".md", ".tex", ".pdf"))
              + ".", "", f"[Errata]({ERRATA_FILE}): published backpropagation mistakes, "
              "each chain judged step by step by `derive check`."]
    owner.update("README.md", "\n".join(lines) + "\n")
    owner.update(".gitignore", "*.pdf\n")
    owner.save()
    owner.written.append(os.path.join(folder, MANIFEST))
    return owner


def _catalogue(owner, pdf):

    derived = catalogue_derivations()
    tex = render_catalogue("latex", derived)
    files = {".tex": tex, ".md": render_catalogue("markdown", derived)}
    if pdf:
        files[".pdf"] = compile_pdf(tex)
    for ext, data in files.items():
        owner.update(CATALOGUE + ext, data)


class Owner:
    """The files of ``folder`` that the gallery owns (those in its manifest), and what
    one run wrote and left alone. The manifest is rewritten after every file the gallery
    takes over, so an interrupted build's files are still its own on the next run (and,
    the output being reproducible, a file written but not yet listed is adopted)."""

    def __init__(self, folder, force=False):
        self.folder, self.force = folder, force
        self.owned = _read_manifest(os.path.join(folder, MANIFEST))
        self.listed = set(self.owned)
        self.written, self.left_alone = [], []

    def check_in_the_way(self, names):
        """Refuse, before any work, a folder, FIFO, device … where a file goes."""
        for name in names:
            kind = kind_of(os.path.join(self.folder, name))
            if kind not in (None, "file"):
                kind = "a folder" if kind == "folder" else kind
                raise DeriveError(f"{os.path.join(self.folder, name)} is {kind}, not a "
                                  "regular file; the gallery replaces only regular files")

    def update(self, name, data):
        path = os.path.join(self.folder, name)
        if kind_of(path) == "file":
            if _content(path, data) == data:     # up to date: ours now, if it was not
                self._own(name, path)
                return
            if name not in self.owned and not self.force:
                self.left_alone.append(path)
                return
        write_atomic(path, data, force=True)
        self._own(name, path)

    def _own(self, name, path):
        self.written.append(path)
        self.owned.add(name)
        if name != MANIFEST and name not in self.listed:
            self.save()

    def save(self):
        """Write the manifest: the names of the gallery's own files, nothing else."""
        text = "# the files derive's gallery wrote, and may replace\n" + "".join(
            f"{name}\n" for name in sorted(self.owned - {MANIFEST}))
        self.listed = set(self.owned)
        path = os.path.join(self.folder, MANIFEST)
        if kind_of(path) != "file" or _content(path, text) != text:
            write_atomic(path, text, force=True)
        self.owned.add(MANIFEST)                  # the manifest is always the gallery's


#: the manifest is read up to this size (the gallery's own is a few hundred bytes)
MANIFEST_LIMIT = 1 << 22


def _read_manifest(path):
    """The names in the manifest that the gallery could have written (`targets`): a
    line that is anything else (a path, ``..``, NUL, bytes that are not UTF-8, a huge
    line) is dropped here and so never written back."""
    if kind_of(path) != "file":
        return set()
    with open(path, "rb") as fh:
        raw = fh.read(MANIFEST_LIMIT + 1)
    if len(raw) > MANIFEST_LIMIT:                # the last line read is cut short
        raw = raw[:MANIFEST_LIMIT].rpartition(b"\n")[0]
    own = {name.encode() for name in targets(pdf=True)} - {MANIFEST.encode()}
    return {line.strip().decode() for line in raw.split(b"\n") if line.strip() in own}


def _content(path, like):
    """The file's content, as bytes or text like ``like`` (a regular file: checked)."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if isinstance(like, bytes):
        return raw
    return raw.decode("utf-8", "replace")


class Progress:
    """One line per document on ``stream`` (stderr), or a bar when it is a terminal."""

    WIDTH = 24

    def __init__(self, total, stream=None):
        self.total, self.count = total, 0
        self.stream = stream if stream is not None else sys.stderr   # None: stderr closed
        self.bar = hasattr(self.stream, "isatty") and self.stream.isatty()

    def _write(self, text):
        """Progress is a courtesy: a closed or failing stderr never stops the job."""
        if self.stream is None:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.stream = None

    def step(self, name):
        self.count += 1
        if self.bar:
            filled = self.WIDTH * (self.count - 1) // self.total
            line = f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] " \
                   f"{self.count}/{self.total} {os.path.basename(name)}"
            self._write(f"{line:<79}"[:79])
        else:
            self._write(f"[{self.count}/{self.total}] {name}\n")

    def done(self):
        if self.bar:
            self._write(f"\r[{'#' * self.WIDTH}] {self.total}/{self.total}".ljust(79) + "\n")


def main(args=None):
    folder = getattr(args, "output", None) or "output"
    owner = build(folder, force=getattr(args, "force", False))
    print(f"wrote the gallery: {len(owner.written)} files in {folder}/ "
          f"(index: {folder}/README.md)")
    if owner.left_alone:
        raise DeriveError(f"left alone {len(owner.left_alone)} file(s) the gallery did not "
                          f"write: {', '.join(owner.left_alone)}; pass --force to replace them")
    return 0
