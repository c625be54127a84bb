"""One network from the command-line options, for every subcommand.

The subcommands still read and word their network options a little differently (issue
14 makes the flags one); a `Wording` names each difference, so the reading itself is
written once, in `network_from`.

>>> from argparse import Namespace
>>> args = Namespace(depth="2", widths=None, activation="tanh", activations=None,
...                  output_activation=None, loss="mse", bias="none", batch=False)
>>> network_from(args, NOTES).activations
('tanh', 'tanh')
>>> network_from(Namespace(**{**vars(args), "depth": "two"}), NOTES)
Traceback (most recent call last):
...
derive.errors.SpecError: depth must be a positive integer or L, got 'two'
"""
import argparse
from dataclasses import dataclass

from ..errors import DeriveError, SpecError
from ..printing.notation import LAYOUTS, PRESETS
from ..spec.network import BIAS_MODES, NORMS, Network
from ..spec.rules import ACTIVATIONS, LOSSES

# --- the option conventions every subcommand shares (SPEC §6) ---------------------------
#: closed sets are argparse ``choices`` (so --help lists them and argparse checks them);
#: activations are open (custom:EXPR), so they get a metavar listing the names and are
#: checked by the rule table
LOSS_CHOICES = tuple(LOSSES)
BIAS_CHOICES = BIAS_MODES
NOTATION_CHOICES = tuple(PRESETS)
LAYOUT_CHOICES = LAYOUTS
ACTIVATION_METAVAR = "{" + ",".join(ACTIVATIONS) + ",custom:EXPR}"
EXIT_CODES = ("exit status: 0 success, 1 a verified claim does not hold, 2 bad input "
              "(one line on stderr),\n  130 interrupted (Ctrl-C), 143 terminated (SIGTERM)")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The epilog kept as written; each option's default shown unless it is None/off."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("%(default)" not in text and action.option_strings and
                action.default not in (None, False, argparse.SUPPRESS)):
            text += " (default: %(default)s)"
        return text


def epilog(*examples):
    """The epilog of a subcommand: its examples and the exit codes."""
    return "examples:\n" + "".join(f"  {e}\n" for e in examples) + "\n" + EXIT_CODES


def subcommand(subparsers, name, help, examples, description=None):
    """A subcommand parser with the house formatter and an epilog of ``examples``."""
    return subparsers.add_parser(name, help=help, description=description or help,
                                 epilog=epilog(*examples), formatter_class=HelpFormatter)


def refused_spelling(parser, old, new):
    """``old`` (an option spelling no longer accepted) is refused naming ``new``."""

    class Refuse(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            raise DeriveError(f"{old} is no longer accepted; use {new}")

    parser.add_argument(old, nargs="?", action=Refuse, help=argparse.SUPPRESS)


def add_activation_options(parser, default=None):
    """--activation, --output-activation, --activations (the old --output refused)."""
    names = f"{', '.join(ACTIVATIONS)} or custom:EXPR in x"
    parser.add_argument("--activation", default=default, metavar=ACTIVATION_METAVAR,
                        help=f"the activation of every layer: {names}")
    parser.add_argument("--output-activation", default=None, metavar=ACTIVATION_METAVAR,
                        help="the output layer's activation, if different "
                             "(default: --activation)")
    parser.add_argument("--activations", default=None, metavar="A,B,…",
                        help="one activation per layer, comma-separated, each one of "
                             "--activation's values")


def add_output_file(parser, required=False, what="the file to write"):
    """-o/--output FILE (``-`` is stdout) and --force."""
    parser.add_argument("-o", "--output", required=required, default=None, metavar="FILE",
                        help=f"{what} ('-' is standard output)"
                             + ("" if required else "; default: standard output"))
    parser.add_argument("--force", action="store_true",
                        help="replace an existing regular file")


@dataclass(frozen=True)
class Wording:
    """How one subcommand reads its network options, and its messages."""

    depth: str = "depth must be a positive integer or L, got {!r}"
    widths: str = "widths must be integers separated by commas, got {!r}"
    depth_digits: bool = False       # --depth is stripped, then digits only
    depth_from_widths: bool = False  # --depth is an optional int, else from --widths;
    #                                  --activation and --activations exclude each other
    count_activations: bool = False  # --activations must give one name per layer
    need_activation: bool = False    # no default activation: ask for one


NOTES = Wording(count_activations=True)
VERIFY = Wording(depth="--depth must be a positive integer or L, got {!r}",
                 widths="--widths must be comma-separated integers, got {!r}",
                 depth_digits=True, need_activation=True)
EXPORT = Wording(widths="--widths must be comma-separated positive integers, got {!r}",
                 depth_from_widths=True, need_activation=True)


def _depth(text, wording):
    if wording.depth_digits:
        text = text.strip()
    if text == "L":
        return text
    if wording.depth_digits:
        if not text.isdigit():
            raise SpecError(wording.depth.format(text))
        return int(text)
    try:
        return int(text)
    except ValueError:
        raise SpecError(wording.depth.format(text)) from None


def _widths(text, wording):
    try:
        return tuple(int(w) for w in text.split(","))
    except ValueError:
        raise SpecError(wording.widths.format(text)) from None


def add_kind_options(parser):
    """The §1b layer options: --residual, --norm layer|batch, --dropout, --weight-decay."""
    parser.add_argument("--residual", action="store_true", help="hidden layers 2 … L−1 "
                        "add their input (needs depth ≥ 3 and equal hidden widths)")
    parser.add_argument("--norm", choices=NORMS, default="none", help="normalize each "
                        "hidden layer's pre-activation: per sample (layer) or per feature "
                        "over the batch (batch, needs --batch)")
    parser.add_argument("--dropout", action="store_true", help="a given dropout mask M_l "
                        "multiplies each hidden layer's output")
    parser.add_argument("--weight-decay", action="store_true", help="add (λ/2) Σ_l ‖W_l‖² "
                        "to the loss")


#: the §1b options a subcommand may have registered, with their values when it has not
KIND_OPTIONS = dict(residual=False, norm="none", dropout=False, weight_decay=False)


def network_from(args, wording):
    """The `Network` of the parsed options ``args`` (depth, widths, activation,
    activations, output_activation, loss, bias, batch, and the §1b options where the
    subcommand has them), read as ``wording`` says."""
    depth = args.depth if wording.depth_from_widths else _depth(args.depth, wording)
    widths = _widths(args.widths, wording) if args.widths else None
    options = dict(loss=args.loss, bias=args.bias, batch=args.batch, widths=widths)
    options.update({k: getattr(args, k, v) for k, v in KIND_OPTIONS.items()})
    if wording.depth_from_widths and widths is not None:
        if depth is not None and depth != len(widths) - 1:
            raise SpecError(f"--depth {depth} does not fit --widths (which give "
                            f"{len(widths) - 1} layers)")
        depth = len(widths) - 1
    if args.activations:
        if wording.depth_from_widths and args.activation:
            raise SpecError("give --activation or --activations, not both")
        acts = tuple(a.strip() for a in args.activations.split(","))
        if wording.count_activations and (depth == "L" or depth != len(acts)):
            raise SpecError(f"--activations gives {len(acts)} names but --depth is {depth}")
        return Network(activations=acts, depth=len(acts) if depth is None else depth,
                       **options)
    if wording.need_activation and not args.activation:
        raise SpecError("give --activation NAME or --activations A,B,…")
    if not wording.depth_from_widths:
        return Network.uniform(depth=depth, activation=args.activation,
                               output=args.output_activation, **options)
    if depth is None:
        raise SpecError("--activation needs --depth or --widths")
    acts = (args.activation,) * (depth - 1) + (args.output_activation or args.activation,)
    return Network(activations=acts, depth=depth, **options)
