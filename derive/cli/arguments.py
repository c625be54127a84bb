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
from dataclasses import dataclass

from ..errors import SpecError
from ..spec.network import Network


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


def network_from(args, wording):
    """The `Network` of the parsed options ``args`` (depth, widths, activation,
    activations, output_activation, loss, bias, batch), read as ``wording`` says."""
    depth = args.depth if wording.depth_from_widths else _depth(args.depth, wording)
    widths = _widths(args.widths, wording) if args.widths else None
    options = dict(loss=args.loss, bias=args.bias, batch=args.batch, widths=widths)
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
