"""`derive notes`: write the derivation of one network up as LaTeX, Markdown or PDF."""
import os
import sys

from .. import backprop
from ..documents.notes import DETAILS, render, render_svg
from ..documents.pdf import compile_pdf
from ..errors import DeriveError
from ..printing.text import recursion_text
from ..util.files import STDOUT, check_writable, is_stdout, write_atomic
from ..util.templates import unmatched
from .architectures import certificate_line
from .arguments import (
    BIAS_CHOICES,
    DEPTH_HELP,
    LAYOUT_CHOICES,
    LOSS_CHOICES,
    NOTATION_CHOICES,
    NOTES,
    add_activation_options,
    add_arch_options,
    add_layer_kind_options,
    add_output_file,
    network_from,
    output_format,
    subcommand,
)

FORMATS = ("latex", "markdown", "pdf", "text")


def register(subparsers):
    p = subcommand(subparsers, "notes", "lecture notes for one network", [
        "derive notes --depth 3 --activation sigmoid --loss bce -o notes.tex",
        "derive notes --depth L --activation tanh --loss mse --format markdown -o notes.md"])
    p.add_argument("--depth", default=None, help=DEPTH_HELP.format(3))
    add_activation_options(p, default="sigmoid")
    p.add_argument("--loss", default="bce", choices=LOSS_CHOICES, help="the loss")
    p.add_argument("--widths", default=None, metavar="N0,…,NL",
                   help="layer widths n_0,…,n_L (default: symbolic)")
    p.add_argument("--bias", default="none", choices=BIAS_CHOICES, help="the bias terms")
    p.add_argument("--batch", action="store_true", help="columns are samples")
    add_layer_kind_options(p)
    add_arch_options(p)
    p.add_argument("--certify", action="store_true",
                   help="(--arch conv1d|conv2d, --format text) end with the certificate: "
                        "every gradient entry against SymPy's derivative of the expanded "
                        "loss, at the network's sizes")
    p.add_argument("--notation", default="hz", choices=NOTATION_CHOICES,
                   help="the symbols of a source note")
    p.add_argument("--layout", default=None, choices=LAYOUT_CHOICES,
                   help="derivative layout (default: the notation's)")
    p.add_argument("--format", default=None, choices=FORMATS,
                   help="the document (text: the results, for the terminal); default: from "
                        "-o's extension (.tex, .md, .pdf, .txt), else latex")
    add_output_file(p, what="the file to write (pdf needs one)")
    p.add_argument("--detail", default="standard", choices=DETAILS,
                   help="brief: the boxed results; full: every layer derived")
    p.add_argument("--body-only", action="store_true",
                   help="a fragment: no preamble (LaTeX) or title block (Markdown)")
    p.add_argument("--templates", default=None, metavar="DIR",
                   help="folder whose templates replace the shipped ones of the same name "
                        "(DIR/notes/steps/delta.j2 replaces notes/steps/delta.j2); they "
                        "render sandboxed, and a file that replaces none is warned about")
    p.set_defaults(func=run)


def out_given(args):
    return bool(args.output)


def warn_unmatched(folder):
    """One line on stderr for each file of ``--templates`` that replaces no shipped
    template (a typo in its name: it would silently never be used)."""
    if folder is None or not os.path.isdir(folder) or sys.stderr is None:
        return        # (no stderr: a warning never goes to stdout, into the document)
    for path, close in unmatched(folder):
        hint = f" (did you mean {os.path.join(folder, close)}?)" if close else ""
        try:
            print(f"derive: warning: {path} replaces no shipped template{hint}; it is used "
                  "only where another template includes it", file=sys.stderr)
        except (OSError, ValueError):      # stderr closed: the document still gets written
            return


def run(args):

    args.format = output_format(args.output, args.format, "latex", FORMATS, "notes")
    warn_unmatched(args.templates)
    if args.format == "pdf" and not out_given(args):
        raise DeriveError("--format pdf needs -o FILE")
    out = None if is_stdout(args.output) else args.output     # -o - is stdout
    svg_name = os.path.splitext(os.path.basename(out))[0] + ".svg" if out else "diagram.svg"
    svg_path = os.path.join(os.path.dirname(out), svg_name) if out else None
    if out:   # refuse before any work, for every file this run would write
        check_writable(out, args.force)
        if args.format == "markdown":
            if os.path.abspath(svg_path) == os.path.abspath(out):
                raise DeriveError(f"-o {out}: the Markdown file and its diagram would both "
                                  "be this file; give a name ending in .md")
            check_writable(svg_path, args.force)
    if args.certify and args.format != "text":
        raise DeriveError("--certify adds a line to --format text; give --format text")
    d = backprop(network_from(args, NOTES))
    if args.format == "text":
        text = recursion_text(d) + ("\n" + certificate_line(args, d) if args.certify else "")
        if not out:
            sys.stdout.write(text + "\n")
            return 0
        write_atomic(out, text + "\n", args.force)
        return 0
    if args.format == "pdf":
        write_atomic(out or STDOUT, compile_pdf(render(d, "latex", args.notation, args.layout,
                                                       detail=args.detail,
                                                       templates=args.templates)),
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
