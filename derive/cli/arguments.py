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
>>> network_from(Namespace(**{**vars(args), "depth": "7" * 5000}), NOTES)
Traceback (most recent call last):
...
derive.errors.SpecError: depth must be between 1 and 256 or L, got 7777…7777 (5000 digits)
"""
import argparse
import os
from dataclasses import dataclass

from sympy import Symbol

from ..errors import DeriveError, SpecError, shown
from ..printing.notation import LAYOUTS, PRESETS
from ..printing.text import text as plain
from ..spec.network import BIAS_MODES, MAX_DEPTH, NORMS, Network
from ..spec.rules import ACTIVATIONS, LOSSES, t, u
from .architectures import add_arch_options, arch_network  # noqa: F401  (add_arch_options: re-exported)

# --- the option conventions every subcommand shares (SPEC §6) ---------------------------
#: closed sets are argparse ``choices`` (so --help lists them and argparse checks them);
#: activations are open (custom:EXPR), so they get a metavar listing the names and are
#: checked by the rule table
LOSS_CHOICES = tuple(LOSSES)
BIAS_CHOICES = BIAS_MODES
NOTATION_CHOICES = tuple(PRESETS)
LAYOUT_CHOICES = LAYOUTS
NORM_CHOICES = NORMS
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


#: the format a file's extension names (`output_format`)
EXTENSION_FORMATS = {".tex": "latex", ".md": "markdown", ".markdown": "markdown",
                     ".pdf": "pdf", ".txt": "text", ".py": "python"}


def output_format(output, given, default, allowed, command):
    """The format a command writes to ``output``: --format (``given``) when -o's
    extension agrees or names no format, else the extension's, else ``default``.

    A file whose extension names another format than --format, or one the command does
    not write, is refused (``--format latex -o x.pdf`` would put LaTeX in a .pdf).

    >>> output_format("notes.md", None, "latex", ("latex", "markdown"), "notes")
    'markdown'
    >>> output_format("x.pdf", "latex", "latex", ("latex", "pdf"), "notes")
    Traceback (most recent call last):
    ...
    derive.errors.DeriveError: --format latex but -o x.pdf is a .pdf file (pdf); drop --format or name it *.tex
    """
    ext = None if not output or output == "-" else os.path.splitext(output)[1].lower()
    implied = EXTENSION_FORMATS.get(ext)
    if implied is not None and implied not in allowed:
        raise DeriveError(f"-o {output}: a {ext} file holds {implied}, which {command} does "
                          f"not write; it writes {', '.join(allowed)}")
    if given is not None and implied is not None and given != implied:
        fits = [e for e, f in EXTENSION_FORMATS.items() if f == given][:1] or [""]
        raise DeriveError(f"--format {given} but -o {output} is a {ext} file ({implied}); "
                          f"drop --format" + (f" or name it *{fits[0]}" if fits[0] else ""))
    return given or implied or default


def loss_definitions():
    """The losses of the rule table, one line each (printed from its SymPy rows, never
    typed): for the epilog of every subcommand that takes --loss."""
    z, y = Symbol("z_i"), Symbol("y_i")
    lines = ["losses (z = z_L the output, y the target, i over the n output units; with "
             "--batch, J is the\n  mean of this over the m samples, the columns):"]
    rows = []
    for name, row in LOSSES.items():
        term = row.term.xreplace({u: z, t: y})
        body = plain(term).replace("**", "^").replace("*", " ")
        body = body if term.is_Pow else f"[{body}]"
        factor = "" if row.factor == 1 else f"({plain(row.factor)}) "
        rows.append((name, f"J = {factor}Σ_i {body}", row.title))
    width = max(len(formula) for _, formula, _ in rows)
    lines += [f"  {name:<9} {formula:<{width}}  {title}" for name, formula, title in rows]
    lines.append("  mse is half the sum, not a mean; mean_mse is the mean (PyTorch's mse_loss)")
    return "\n".join(lines)


def add_loss_definitions(parser):
    """Put `loss_definitions` into ``parser``'s epilog, before the exit codes, when the
    parser takes --loss."""
    if "--loss" in parser.format_usage() and parser.epilog:
        parser.epilog = parser.epilog.replace(EXIT_CODES, loss_definitions() + "\n\n" +
                                              EXIT_CODES)


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


def add_layer_kind_options(parser):
    """The §1b flags: --residual, --norm layer|batch, --dropout, --weight-decay."""
    parser.add_argument("--residual", action="store_true",
                        help="skip connections z_l = z_{l-1} + … on hidden layers 2 … L-1 "
                             "(equal hidden widths, depth ≥ 3)")
    parser.add_argument("--norm", default="none", choices=NORM_CHOICES,
                        help="normalize each hidden pre-activation: over its features "
                             "(layer) or over the batch (batch, needs --batch)")
    parser.add_argument("--dropout", action="store_true",
                        help="a given mask M_l multiplies each hidden layer's output")
    parser.add_argument("--weight-decay", action="store_true",
                        help="add (λ/2) Σ_l ‖W_l‖_F² to the loss")


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

    depth: str = "depth must be a positive integer or L, got {}"
    widths: str = "widths must be integers separated by commas, got {}"
    depth_digits: bool = False       # --depth is stripped, then digits only
    depth_typed: bool = False        # --depth is an optional int already (argparse type)
    exclusive_activations: bool = False  # --activation and --activations exclude each other
    count_activations: bool = False  # --activations must give one name per layer
    need_activation: bool = False    # no default activation: ask for one
    default_depth: object = None     # the depth when neither --depth, --activations nor
    #                                  --widths gives one (None: it must be given)


NOTES = Wording(count_activations=True, default_depth=3)
VERIFY = Wording(depth="--depth must be a positive integer or L, got {}",
                 widths="--widths must be comma-separated integers, got {}",
                 depth_digits=True, need_activation=True, default_depth="L")
EXPORT = Wording(widths="--widths must be comma-separated positive integers, got {}",
                 depth_typed=True, exclusive_activations=True, need_activation=True)
DEPTH_HELP = ("number of layers, or L (symbolic); default: the number of --activations "
              "or of --widths minus one, else {}")


#: the Network fields of the §1b flags (absent on a subcommand that does not offer them)
KIND_OPTIONS = ("residual", "norm", "dropout", "weight_decay")


#: an integer option of more digits than this is refused before ``int`` (Python itself
#: refuses past 4300 digits, and no depth, width or layer needs ten)
MAX_DIGITS = 9


def digits(text):
    """A run of digits too long to be a size, worded: ``7777…7777 (5000 digits)``."""
    sign, body = text[:1] if text[:1] in "+-" else "", text.lstrip("+-")
    return f"{sign}{body[:4]}…{body[-4:]} ({len(body)} digits)"


def _long_number(text):
    """True when ``text`` (stripped, with an optional sign) is all digits, too many."""
    body = text.strip().lstrip("+-")
    return body.isdigit() and len(body) > MAX_DIGITS


def _depth(text, wording):
    if text is None or wording.depth_typed:
        return text
    if wording.depth_digits:
        text = text.strip()
    if text == "L":
        return text
    if _long_number(text):
        name = wording.depth.split(" must")[0]
        raise SpecError(f"{name} must be between 1 and {MAX_DEPTH} or L, got "
                        f"{digits(text.strip())}")
    if wording.depth_digits:
        if not text.isdigit():
            raise SpecError(wording.depth.format(shown(text)))
        return int(text)
    try:
        return int(text)
    except ValueError:
        raise SpecError(wording.depth.format(shown(text))) from None


def _widths(text, wording):
    for part in text.split(","):
        if _long_number(part):
            name = wording.widths.split(" must")[0]
            raise SpecError(f"{name}: {digits(part.strip())} is too large for a width")
    try:
        return tuple(int(w) for w in text.split(","))
    except ValueError:
        raise SpecError(wording.widths.format(shown(text))) from None


def resolve_depth(given, acts, widths, default):
    """The depth: ``given`` (--depth), else what --activations (one name a layer) or
    --widths (n_0 … n_L) imply, else ``default``; a one-line SpecError when they disagree.

    >>> resolve_depth(None, ("tanh", "identity"), (3, 4, 2), "L")
    2
    >>> resolve_depth(3, ("tanh", "identity"), None, "L")
    Traceback (most recent call last):
    ...
    derive.errors.SpecError: --activations: expected 3 names (one per layer) for --depth 3, got 2
    """
    if given == "L":
        return given          # a symbolic depth: --activations name hidden and output
    if given is not None:
        for_what = f"for --depth {given}"
    elif acts:
        given, for_what = len(acts), f"for the {len(acts)} layers of --activations"
    elif widths:
        return len(widths) - 1
    else:
        return default
    if acts and len(acts) != given:
        raise SpecError(f"--activations: expected {given} names (one per layer) {for_what}, "
                        f"got {len(acts)}")
    if widths and len(widths) != given + 1:
        raise SpecError(f"--widths: expected {given + 1} values n_0,…,n_{given} {for_what}, "
                        f"got {len(widths)}")
    return given


def network_from(args, wording):
    """The `Network` of the parsed options ``args`` (depth, widths, activation,
    activations, output_activation, loss, bias, batch), read as ``wording`` says; with
    ``--arch`` other than mlp, the §1c network of its options (`derive.cli.architectures`)."""
    net = arch_network(args)
    if net is not None:
        return net
    widths = _widths(args.widths, wording) if args.widths else None
    acts = tuple(a.strip() for a in args.activations.split(",")) if args.activations \
        else None
    depth = resolve_depth(_depth(args.depth, wording), acts, widths, wording.default_depth)
    options = dict(loss=args.loss, bias=args.bias, batch=args.batch, widths=widths,
                   **{key: getattr(args, key) for key in KIND_OPTIONS if hasattr(args, key)})
    if acts:
        if wording.exclusive_activations and args.activation:
            raise SpecError("give --activation or --activations, not both")
        if wording.count_activations and depth == "L":
            raise SpecError(f"--activations gives {len(acts)} names but --depth is {depth}")
        return Network(activations=acts, depth=depth, **options)
    if wording.need_activation and not args.activation:
        raise SpecError("give --activation NAME or --activations A,B,…")
    if depth is None:
        raise SpecError("--activation needs --depth or --widths")
    return Network.uniform(depth=depth, activation=args.activation,
                           output=args.output_activation, **options)
