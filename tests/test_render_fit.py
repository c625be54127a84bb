"""Every gallery document fits its page (SPEC §4): pdflatex's log of each rendered .tex
names no overfull box wider than 1 pt. Skips without pdflatex, except under CI=true."""
import os
import re
import shutil
import subprocess

import pytest

from derive import Network, backprop, render
from derive.api import catalogue_derivations
from derive.cli.gallery import entries
from derive.documents.catalogue import render_catalogue

GALLERY = entries()


def _pdflatex():
    exe = shutil.which("pdflatex")
    if exe is None and os.environ.get("CI") != "true":
        pytest.skip("pdflatex is not installed")
    assert exe is not None, "CI=true needs pdflatex"
    return exe


def overfull(log):
    """The widths (pt) of the overfull boxes a pdflatex log reports."""
    return [float(w) for w in re.findall(r"Overfull \\[hv]box \(([\d.]+)pt too", log)]


def test_overfull_reads_the_log():
    log = "Overfull \\hbox (176.2pt too wide) in paragraph\nOverfull \\hbox (0.5pt too wide)"
    assert overfull(log) == [176.2, 0.5]


def _wide_boxes(exe, tex, tmp_path):
    """Compile ``tex``; the overfull boxes wider than 1 pt its log reports."""
    (tmp_path / "doc.tex").write_text(tex)
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                          cwd=tmp_path, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stdout.decode(errors="replace")[-2000:]
    log = (tmp_path / "doc.log").read_text(errors="replace")
    return [w for w in overfull(log) if w > 1.0]


@pytest.mark.parametrize("entry", GALLERY, ids=lambda e: e.name)
def test_every_gallery_document_fits_the_page(entry, tmp_path):
    exe = _pdflatex()
    tex = render(backprop(entry.net), "latex", entry.notation, title=entry.title)
    wide = _wide_boxes(exe, tex, tmp_path)
    assert not wide, f"overfull boxes of {wide} pt"


def test_the_catalogue_fits_the_page(tmp_path):
    exe = _pdflatex()
    wide = _wide_boxes(exe, render_catalogue("latex", catalogue_derivations()), tmp_path)
    assert not wide, f"overfull boxes of {wide} pt"


def _listed_packages(fragment):
    """The packages the fragment's printed comment at its top asks for."""
    head = "\n".join(line for line in fragment.splitlines()[:5] if line.startswith("%"))
    found = re.search(r"\\usepackage\{([^}]*)\}", head)
    assert found, "the fragment names no packages at its top"
    return found.group(1)


def test_two_fragments_compile_in_a_plain_article(tmp_path):
    """--body-only output, twice in one host, with exactly the packages it lists; the
    indicator keeps its double-struck glyph there and nothing leaks into the host."""
    exe = _pdflatex()
    frags = [render(backprop(Network.uniform(depth=2, activation="sigmoid", loss=loss)),
                    "latex", standalone=False) for loss in ("bce", "mse")]
    assert r"\documentclass" not in frags[0] and r"\mathbb{1}" in frags[1]
    packages = _listed_packages(frags[0])
    for n, frag in enumerate(frags):
        (tmp_path / f"part{n}.tex").write_text(frag)
    host = ("\\documentclass{article}\n\\usepackage{" + packages + "}\n\\begin{document}\n"
            "\\section{Host}\n\\input{part0}\n\\input{part1}\n"
            "\\[\\mathbb{R}\\]\n\\end{document}\n")
    (tmp_path / "host.tex").write_text(host)
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "host.tex"],
                          cwd=tmp_path, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stdout.decode(errors="replace")[-2000:]
