"""`derive notes`: write the derivation of one network up as LaTeX, Markdown or PDF."""
import os
import sys

from .. import backprop
from ..documents.notes import render, render_svg
from ..documents.pdf import compile_pdf
from ..errors import DeriveError
from ..printing.text import recursion_text
from ..util.files import check_writable, write_atomic
from .arguments import NOTES, network_from


def register(subparsers):
    p = subparsers.add_parser("notes", help="lecture notes for one network")
    p.add_argument("--depth", default="3", help="number of layers, or L (symbolic)")
    p.add_argument("--activation", default="sigmoid", help="activation of every layer")
    p.add_argument("--output-activation", default=None,
                   help="activation of the output layer (default: --activation)")
    p.add_argument("--activations", default=None, help="one per layer, comma separated")
    p.add_argument("--loss", default="bce")
    p.add_argument("--widths", default=None, help="n_0,…,n_L (default: symbolic)")
    p.add_argument("--bias", default="none", help="none, augmented or explicit")
    p.add_argument("--batch", action="store_true", help="columns are samples")
    p.add_argument("--notation", default="hz", help="hz, gh, pq or za")
    p.add_argument("--layout", default=None, help="numerator or denominator")
    p.add_argument("--format", default="latex",
                   help="latex, markdown, pdf, or text (the results, for the terminal)")
    p.add_argument("--detail", default="standard", help="brief, standard or full")
    p.add_argument("--body-only", action="store_true",
                   help="a fragment: no preamble (LaTeX) or title block (Markdown)")
    p.add_argument("--templates", default=None,
                   help="folder whose templates replace the shipped ones of the same name")
    p.add_argument("-o", "--output", default=None, help="file to write (default: stdout)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=run)


def out_given(args):
    return bool(args.output)


def run(args):

    if args.format not in ("latex", "markdown", "pdf", "text"):
        raise DeriveError(f"format {args.format!r} is not allowed; "
                          "allowed: latex, markdown, pdf, text")
    if args.format == "pdf" and not out_given(args):
        raise DeriveError("--format pdf needs -o FILE")
    out = args.output
    svg_name = os.path.splitext(os.path.basename(out))[0] + ".svg" if out else "diagram.svg"
    svg_path = os.path.join(os.path.dirname(out), svg_name) if out else None
    if out:   # refuse before any work, for every file this run would write
        check_writable(out, args.force)
        if args.format == "markdown":
            if os.path.abspath(svg_path) == os.path.abspath(out):
                raise DeriveError(f"-o {out}: the Markdown file and its diagram would both "
                                  "be this file; give a name ending in .md")
            check_writable(svg_path, args.force)
    d = backprop(network_from(args, NOTES))
    if args.format == "text":
        if not out:
            sys.stdout.write(recursion_text(d) + "\n")
            return 0
        write_atomic(out, recursion_text(d) + "\n", args.force)
        return 0
    if args.format == "pdf":
        write_atomic(out, compile_pdf(render(d, "latex", args.notation, args.layout,
                                              detail=args.detail, templates=args.templates)),
                     args.force)
        return 0
    text = render(d, args.format, args.notation, args.layout, svg_name=svg_name,
                  detail=args.detail, standalone=not args.body_only, templates=args.templates)
    if not out:
        sys.stdout.write(text)
        return 0
    if args.format == "markdown":
        write_atomic(svg_path, render_svg(d, args.notation), args.force)
    write_atomic(out, text, args.force)
    return 0
