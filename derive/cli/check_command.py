"""``derive check --steps FILE|-``: a student's derivation chain, step by step (SPEC §3b).

The chain is echoed with ✓/✗ per step and the diagnosis under the first ✗ (``--format
text``, the default), or written up as a LaTeX or Markdown document beside the engine's
own derivation (``--format latex|markdown``). Exit status 0 when every step holds, 1
when a step does not, 2 on bad input.

>>> import io, sys
>>> from derive.cli.main import main
>>> sys.stdin = io.StringIO("dJ/dW_2 = delta_2 z_1^T\\n = 2 (z_2 - y) z_1^T\\n")
>>> main(["check", "--depth", "2", "--activation", "identity", "--loss", "sse",
...       "--steps", "-"])
✓ 0  dJ/dW_2 = delta_2 z_1^T
✓ 1          = 2 (z_2 - y) z_1^T
all 2 steps hold
0
>>> sys.stdin = sys.__stdin__
"""
import sys

from ..claims.chain_check import check_steps
from ..claims.chain_report import format_report
from ..documents.steps_doc import render_check
from ..engine.certificate import check_size
from ..engine.plan import backprop
from ..errors import DeriveError
from ..util.files import check_writable, is_stdout, write_atomic
from .arguments import (
    BIAS_CHOICES,
    DEPTH_HELP,
    LOSS_CHOICES,
    NOTATION_CHOICES,
    VERIFY,
    add_activation_options,
    add_layer_kind_options,
    add_output_file,
    network_from,
    subcommand,
)

EXIT_OK, EXIT_WRONG_STEP = 0, 1
FORMATS = ("text", "latex", "markdown")
MAX_BYTES = 64_000


def register(subparsers):
    p = subcommand(subparsers, "check", "find the first wrong step of a derivation chain, "
                   "name the mistake and show the repair", [
                       "derive check --depth L --activation sigmoid --loss bce --steps chain.txt",
                       "derive check --depth L --activation sigmoid --loss bce --steps - "
                       "--format markdown -o feedback.md < chain.tex"],
                   description="Check every step of a chain 'lhs = rhs' / '= rhs' (plain "
                   "text or a LaTeX aligned body; Jacobian products dA/dB or "
                   "\\frac{\\partial A}{\\partial B} are read as the chain rule) against "
                   "the derivation, find the first wrong step, name its mistake and show "
                   "the repair. Exit status 1 means a step does not hold.")
    p.add_argument("--depth", default=None, help=DEPTH_HELP.format("L"))
    add_activation_options(p)
    p.add_argument("--loss", required=True, choices=LOSS_CHOICES, help="the loss")
    p.add_argument("--widths", default=None, metavar="N0,…,NL",
                   help="layer widths n_0,…,n_L")
    p.add_argument("--bias", nargs="?", const="explicit", default="none",
                   choices=BIAS_CHOICES, help="the bias terms (--bias alone: explicit)")
    p.add_argument("--batch", action="store_true", help="columns are samples")
    add_layer_kind_options(p)
    p.add_argument("--notation", default="hz", choices=NOTATION_CHOICES,
                   help="the symbols the chain is written in")
    p.add_argument("--layout", default="denominator", choices=("denominator", "numerator"),
                   help="how a step that is a vector's gradient is written: a column "
                        "(denominator) or a row (numerator)")
    p.add_argument("--steps", required=True, metavar="FILE",
                   help="the chain, one step a line ('-' reads standard input)")
    p.add_argument("--format", default="text", choices=FORMATS,
                   help="text: the chain with marks; latex/markdown: a feedback document")
    add_output_file(p, what="the document to write")
    p.set_defaults(func=run)


def read_steps(path):
    """The chain's text from a file or standard input, bounded, as one-line errors."""
    try:
        if path == "-":
            text = sys.stdin.read(MAX_BYTES + 1)
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read(MAX_BYTES + 1)
    except UnicodeDecodeError:
        raise DeriveError(f"--steps {path}: not UTF-8 text") from None
    except OSError as exc:
        raise DeriveError(f"--steps {path}: {exc.strerror or exc}") from None
    if len(text) > MAX_BYTES:
        raise DeriveError(f"--steps {path}: more than {MAX_BYTES} characters")
    return text


def run(args):
    out = None if args.output is None or is_stdout(args.output) else args.output
    if out:
        check_writable(out, args.force)
    net = network_from(args, VERIFY)
    if net.widths is not None:
        check_size(net, tuple(net.widths))
    text = read_steps(args.steps)
    report = check_steps(net, text, notation=args.notation, layout=args.layout)
    if args.format == "text":
        result = format_report(report) + "\n"
    else:
        result = render_check(backprop(net), report, args.format, args.notation)
    if out:
        write_atomic(out, result, args.force)
    else:
        sys.stdout.write(result)
    return EXIT_OK if report.holds else EXIT_WRONG_STEP
