"""``derive catalogue``: the matrix-derivative catalogue, one derivation, or one check.

    derive catalogue                                   # 003's catalogue, for the terminal
    derive catalogue --format latex -o catalogue.tex   # … as a document
    derive catalogue --expr "1/2 x^T A^T A x" --wrt A  # one derivation
    derive catalogue --expr "y^T A x" --wrt A --claim "x y^T"   # check a claimed form
    derive catalogue --expr "log det(X)" --wrt X --claim "X^{-T}"

Exit status 0 on success (or when the claim holds), 1 when a claim does not hold, 2 on
bad input.

>>> from derive.cli.main import main
>>> main(["catalogue", "--expr", "y^T A x", "--wrt", "A", "--claim", "y x^T"])
HOLDS: holds
checked at sizes m=2, n=3; m=3, n=4 (50 digits)
exact (zero difference) at sizes m=2, n=3; m=3, n=4
correct form: y x^T
       LaTeX: \\mathbf{y} \\mathbf{x}^\\top
0
"""
import os
import re

from sympy import sstr

from ..api import catalogue_document, export, matrix_derivative
from ..claims.identity_check import verify_derivative
from ..claims.verdict import format_verdict
from ..codegen.targets import TARGETS
from ..documents.catalogue import ENTRIES, render_one
from ..documents.pdf import compile_pdf
from ..errors import DeriveError
from ..printing.matrix_latex import to_claim
from ..util.files import check_writable, is_stdout, write_atomic
from .arguments import MAX_DIGITS, add_output_file, digits, output_format, subcommand

EXIT_OK, EXIT_DOES_NOT_HOLD = 0, 1
FORMATS = ("text", "latex", "markdown", "pdf")


def register(subparsers):
    p = subcommand(subparsers, "catalogue", "derivatives of scalars with respect to "
                   "matrices, derived in index notation (seed 003)", [
                       'derive catalogue --expr "1/2 x^T A^T A x" --wrt A',
                       'derive catalogue --expr "y^T A x" --wrt A --claim "y x^T"'])
    p.add_argument("--expr", default=None, help=(
        'a scalar in the claim syntax, e.g. "1/2 x^T A^T A x"; single letters are names '
        "(lower case: column vectors), with products, +, -, ^T, ⊙, powers X^2, inverses "
        "X^{-1} and X^{-T}, tr(…) (trace), det(…), log det(…) (logdet), norms ||x||, "
        "||X||_F^2, and elementwise sigma, phi, sigmoid, tanh, exp, log, sqrt"))
    p.add_argument("--wrt", default=None, help="the variable to differentiate by, e.g. A")
    p.add_argument("--shape", action="append", default=[], metavar="NAME=ROWS,COLS",
                   help="a shape, e.g. A=m,n or x=3,1 (repeatable; default: inferred)")
    p.add_argument("--claim", default=None, help='a claimed derivative, e.g. "A x x^T"')
    p.add_argument("--format", default=None, choices=FORMATS,
                   help="the document (default: from -o's extension, else text)")
    p.add_argument("--export", default=None, choices=TARGETS, metavar="TARGET",
                   help="write f_and_grad(**arrays), computing the expression and its "
                        "derived gradient, as code for numpy, torch, jax or array_api (with "
                        "--expr, --wrt and -o FILE.py)")
    add_output_file(p)
    p.set_defaults(func=run)


def parse_shapes(items):
    """['A=m,n', 'x=3,1'] → {'A': ('m', 'n'), 'x': (3, 1)}."""
    shapes = {}
    for item in items:
        match = re.fullmatch(r"\s*([A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?)\s*=\s*(\w+)\s*,\s*(\w+)\s*",
                             item)
        if not match:
            raise DeriveError(f"--shape {item!r}: expected NAME=ROWS,COLS such as A=m,n "
                              "or x=3,1")
        name, rows, cols = match.groups()
        for size in (rows, cols):
            if size.isdigit() and len(size) > MAX_DIGITS:
                raise DeriveError(f"--shape {name}: {digits(size)} is too large for a size")
        if "_" in name:
            base, sub = name.split("_", 1)
            name = base + "_{" + sub.strip("{}") + "}"
        shapes[name] = tuple(int(s) if s.isdigit() else s for s in (rows, cols))
    return shapes


def _format(args):
    """--format, else -o's extension, else text; a conflict between them is refused,
    and so is a file whose extension names no format (without --format)."""
    fmt = output_format(args.output, args.format, None, FORMATS, "catalogue")
    if fmt is not None:
        return fmt
    if args.output and not is_stdout(args.output):
        ext = os.path.splitext(args.output)[1].lower()
        raise DeriveError(f"-o {args.output}: cannot tell the format from {ext or 'no'} "
                          "extension; give --format text, latex, markdown or pdf")
    return "text"


def run(args):

    if args.export is not None:
        return _export(args)
    fmt = _format(args)
    if fmt == "pdf" and not args.output:
        raise DeriveError("--format pdf needs -o FILE")
    if args.output:
        check_writable(args.output, args.force)
    if (args.expr is None) != (args.wrt is None):
        raise DeriveError("give --expr and --wrt together (or neither, for the catalogue)")
    if args.claim is not None and args.expr is None:
        raise DeriveError("--claim needs --expr and --wrt")
    shapes = parse_shapes(args.shape)
    if shapes and args.expr is None:
        raise DeriveError("--shape needs --expr")
    if args.claim is not None:
        return _check(args, shapes, fmt)
    text = _document(args, shapes, fmt)
    if args.output:
        data = text
        if fmt == "pdf":
            data = compile_pdf(text)
        write_atomic(args.output, data, args.force)
        if not is_stdout(args.output):
            print(f"wrote {args.output}")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return EXIT_OK


def _document(args, shapes, fmt):

    tex_fmt = "latex" if fmt == "pdf" else fmt
    if args.expr is None:
        return catalogue_text() if fmt == "text" else catalogue_document(tex_fmt)
    d = matrix_derivative(args.expr, args.wrt, shapes or None)
    return derivation_text(d) if fmt == "text" else render_one(d, tex_fmt)


def _export(args):

    if args.expr is None or args.wrt is None:
        raise DeriveError("--export needs --expr and --wrt (the scalar and its variable)")
    if args.claim is not None or args.format is not None:
        raise DeriveError("--export writes code; it takes no --claim or --format")
    if not args.output:
        raise DeriveError("--export needs -o FILE.py ('-' for standard output)")
    check_writable(args.output, args.force)
    module = export(matrix_derivative(args.expr, args.wrt, parse_shapes(args.shape) or None),
                    args.export)
    write_atomic(args.output, module.source, args.force)
    if not is_stdout(args.output):
        print(f"wrote {args.output} (f_and_grad for {args.export})")
    return EXIT_OK


def _check(args, shapes, fmt):

    if fmt != "text" or args.output:
        raise DeriveError("--claim prints its verdict; it takes no --format or -o")
    verdict = verify_derivative(args.expr, args.wrt, args.claim, shapes or None)
    print(format_verdict(verdict))
    return EXIT_OK if verdict.holds else EXIT_DOES_NOT_HOLD


def derivation_text(d):
    """One derivation for the terminal: its steps in plain text and the certificate."""


    lines = [f"C = {d.text}", "shapes: " + ", ".join(
        f"{k} {'×'.join(map(str, v))}" for k, v in d.shapes.items())]
    for step in d.steps[1:]:
        rhs = to_claim(step.rhs) if step.form == "matrix" and step.rhs.is_Matrix \
            else sstr(step.rhs)
        lines.append(f"  [{step.rule}] {sstr(step.lhs)} = {rhs}")
    cert = d.certify()
    sizes = ", ".join(f"{k}={v}" for k, v in cert.widths) or "the given sizes"
    lines.append(f"certified at {sizes}: " + ("holds" if cert.holds else "FAILS") +
                 (", exactly" if cert.exact else ""))
    return "\n".join(lines)


def catalogue_text():
    """The catalogue's results, one line each."""

    lines = []
    for entry in ENTRIES:
        for wrt in entry.wrt:
            d = matrix_derivative(entry.expr, wrt)
            cert = d.certify()
            status = "certified exactly" if cert.exact else (
                "certified" if cert.holds else "NOT CERTIFIED")
            lines.append(f"C = {entry.expr}:  dC/d{wrt} = {to_claim(d.result)}   "
                         f"[{status}, {entry.source}]")
    return "\n".join(lines)
