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


def _fragments(**options):
    """Two body-only documents (a by-(n) reference in each: the output layer's δ)."""
    return [render(backprop(Network.uniform(depth=2, activation="sigmoid", loss=loss)),
                   "latex", standalone=False, **options) for loss in ("bce", "mse")]


def _compile_host(exe, tmp_path, frags, packages, body=""):
    for n, frag in enumerate(frags):
        (tmp_path / f"part{n}.tex").write_text(frag)
    parts = "".join(f"\\input{{part{n}}}\n" for n in range(len(frags)))
    host = ("\\documentclass{article}\n\\usepackage{" + packages + "}\n\\begin{document}\n"
            "\\section{Host}\n\\begin{equation}a = b\\label{eq:host}\\end{equation}\n"
            + parts + body + "\\[\\mathbb{R}\\] by \\eqref{eq:host}\n\\end{document}\n")
    (tmp_path / "host.tex").write_text(host)
    for _ in range(2):      # the second run resolves the references
        proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "host.tex"],
                              cwd=tmp_path, capture_output=True, timeout=300)
        assert proc.returncode == 0, proc.stdout.decode(errors="replace")[-2000:]
    return (tmp_path / "host.log").read_text(errors="replace")


def test_two_fragments_compile_in_a_plain_article(tmp_path):
    """--body-only output, twice in one host, with exactly the packages it lists; the
    indicator keeps its double-struck glyph there and nothing leaks into the host; the
    numbered displays are labelled under each fragment's own prefix and cited with
    \\eqref, so the host's numbering goes on and no label is defined twice."""
    exe = _pdflatex()
    frags = _fragments(section_level="subsection")
    assert r"\documentclass" not in frags[0] and r"\mathbb{1}" in frags[1]
    prefixes = [set(re.findall(r"\\label\{([^:}]*):", f)) for f in frags]
    assert all(len(p) == 1 for p in prefixes) and prefixes[0] != prefixes[1]
    for frag in frags:
        cited = set(re.findall(r"\\eqref\{([^}]*)\}", frag))
        assert cited and cited <= set(re.findall(r"\\label\{([^}]*)\}", frag))
        assert r"\tag{" not in frag and r"\subsection{" in frag and r"\section{" not in frag
    log = _compile_host(exe, tmp_path, frags, _listed_packages(frags[0]))
    assert "multiply defined" not in log and "undefined references" not in log
    assert "Overfull" not in log or not [w for w in overfull(log) if w > 1.0]


def test_the_same_network_twice_needs_its_own_prefix(tmp_path):
    """One document twice in a host: the default labels clash (LaTeX says so), with a
    --tag-prefix each they do not."""
    exe = _pdflatex()
    same = _fragments()[:1] * 2
    log = _compile_host(exe, tmp_path, same, _listed_packages(same[0]))
    assert "multiply defined" in log
    named = [render(backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce")),
                    "latex", standalone=False, tag_prefix=p) for p in ("first", "second")]
    log = _compile_host(exe, tmp_path, named, _listed_packages(named[0]))
    assert "multiply defined" not in log and "undefined references" not in log


# -- layout: headings and lead-ins never end a page, the algorithm flows ------------------
def _shipped_needspace():
    """The heading macro exactly as a rendered document defines it."""
    tex = render(backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce")), "latex")
    found = re.search(r"\\makeatletter\n(\\providecommand\{\\bpdneedspace\}.*?)\\makeatother",
                      tex, re.S)
    assert found, "the document defines no \\bpdneedspace"
    return found.group(1)


def _heading_page(exe, tmp_path, before):
    """The page of a heading that comes with five lines left on page 1 (``before`` is
    what the document puts in front of it)."""
    tex = ("\\documentclass{article}\n\\makeatletter\n" + _shipped_needspace() +
           "\\makeatother\n\\begin{document}\n"
           "\\vspace*{\\dimexpr\\textheight-7\\baselineskip\\relax}\nFiller.\n\n"
           + before + "\\section{Kept}\nText.\n\\end{document}\n")
    (tmp_path / "t.tex").write_text(tex)
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
                          cwd=tmp_path, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stdout.decode(errors="replace")[-2000:]
    aux = (tmp_path / "t.aux").read_text()
    return int(re.search(r"\\numberline \{1\}Kept\}\{(\d+)\}", aux).group(1))


def test_a_heading_near_the_foot_moves_to_the_next_page(tmp_path):
    exe = _pdflatex()
    assert _heading_page(exe, tmp_path, "") == 1          # LaTeX alone keeps it there
    assert _heading_page(exe, tmp_path, "\\bpdneedspace{6\\baselineskip}\n") == 2


@pytest.mark.parametrize("entry", GALLERY, ids=lambda e: e.name)
def test_headings_and_lead_ins_keep_with_what_follows(entry):
    """Every heading asks for room below it; every display continues its lead-in's
    paragraph (TeX never breaks a page just before a display: \\predisplaypenalty is
    10000); the algorithm is not an unbreakable box that a page break would leave
    alone on the last page."""
    tex = render(backprop(entry.net), "latex", entry.notation, title=entry.title)
    lines = tex.splitlines()
    for n, line in enumerate(lines):
        if re.match(r"\\(sub)*section\*?\{", line) and n > 0:
            assert lines[n - 1].startswith("\\bpdneedspace"), line
        if line.startswith("\\begin{equation"):
            assert lines[n - 1].strip(), f"a blank line before the display at line {n + 1}"
    assert "minipage" not in tex.split("The algorithm", 1)[1]
