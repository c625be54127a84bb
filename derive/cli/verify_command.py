"""``derive verify``: check a closed form for a gradient (SPEC §6).

Exit status 0 when the claim holds, 1 when it does not, 2 on bad input (raised as a
`DeriveError`, which `derive.cli.main` prints on one line).

>>> from derive.cli.main import main
>>> main(["verify", "--depth", "2", "--activation", "identity", "--loss", "sse",
...       "--param", "W_2", "--claim", "2 (z_2 - y) z_1^T"])  # doctest: +ELLIPSIS
HOLDS: holds
...
0
"""
import re

from ..claims.network_check import verify
from ..claims.verdict import format_verdict
from ..engine.certificate import check_size
from ..errors import SpecError
from ..spec.network import MAX_DEPTH, Network
from .arguments import (
    BIAS_CHOICES,
    DEPTH_HELP,
    LOSS_CHOICES,
    MAX_DIGITS,
    NOTATION_CHOICES,
    VERIFY,
    add_activation_options,
    add_arch_options,
    add_layer_kind_options,
    digits,
    network_from,
    refused_spelling,
    subcommand,
)

EXIT_OK, EXIT_DOES_NOT_HOLD = 0, 1


def register(subparsers):
    p = subcommand(subparsers, "verify", "check a closed form for ∂J/∂W_l, ∂J/∂b_l, δ_l "
                   "or ∂J/∂z_l", [
                       'derive verify --depth L --activation sigmoid --loss bce --param W_L '
                       '--claim "(z_L - y) z_{L-1}^T"',
                       'derive verify --depth 2 --activation identity --loss sse --param W_2 '
                       '--claim "2 (z_2 - y) z_1^T"'])
    p.add_argument("--depth", default=None, help=DEPTH_HELP.format("L"))
    add_activation_options(p)
    refused_spelling(p, "--output", "--output-activation for the output layer's "
                     "activation (-o/--output is a file, and verify writes none)")
    p.add_argument("--loss", required=True, choices=LOSS_CHOICES, help="the loss")
    p.add_argument("--widths", default=None, metavar="N0,…,NL",
                   help="layer widths n_0,…,n_L")
    p.add_argument("--param", required=True, help="W_L, W_{L-1}, W_2, b_1, delta_2, z_1 …")
    p.add_argument("--claim", required=True, help='e.g. "(z_L - y) z_{L-1}^T"')
    p.add_argument("--bias", nargs="?", const="explicit", default="none",
                   choices=BIAS_CHOICES, help="the bias terms (--bias alone: explicit)")
    p.add_argument("--batch", action="store_true", help="columns are samples")
    add_layer_kind_options(p)
    add_arch_options(p)
    p.add_argument("--notation", default="hz", choices=NOTATION_CHOICES,
                   help="the symbols the claim is written in")
    p.set_defaults(func=run)


def check_param(param):
    """A layer index too long to be a layer (``W_7777…``) is refused before the claim
    grammar reads it (Python's ``int`` refuses past 4300 digits)."""
    run = max(re.findall(r"\d+", param), key=len, default="")
    if len(run) > MAX_DIGITS:
        raise SpecError(f"--param: layer {digits(run)} does not exist (the depth is at most "
                        f"{MAX_DEPTH})")


def run(args):

    check_param(args.param)
    net = network_from(args, VERIFY)
    if isinstance(net, Network) and net.widths is not None:   # bounded like certify
        check_size(net, tuple(net.widths))
    verdict = verify(net, args.param, args.claim, notation=args.notation)
    print(format_verdict(verdict))
    return EXIT_OK if verdict.holds else EXIT_DOES_NOT_HOLD

