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
from ..claims.network_check import verify
from ..claims.verdict import format_verdict
from .arguments import VERIFY, network_from

EXIT_OK, EXIT_DOES_NOT_HOLD = 0, 1


def register(subparsers):
    p = subparsers.add_parser("verify", help="check a closed form for ∂J/∂W_l, ∂J/∂b_l, "
                              "δ_l or ∂J/∂z_l")
    p.add_argument("--depth", default="L", help="an integer depth or L (default L)")
    p.add_argument("--activation", default=None, help="activation of every layer")
    p.add_argument("--output", dest="output_activation", metavar="OUTPUT", default=None,
                   help="output-layer activation, if different")
    p.add_argument("--activations", default=None,
                   help="comma-separated, one per layer (or hidden,output for depth L)")
    p.add_argument("--loss", required=True)
    p.add_argument("--widths", default=None, help="comma-separated n_0,…,n_L")
    p.add_argument("--param", required=True, help="W_L, W_{L-1}, W_2, b_1, delta_2, z_1 …")
    p.add_argument("--claim", required=True, help='e.g. "(z_L - y) z_{L-1}^T"')
    p.add_argument("--bias", nargs="?", const="explicit", default="none",
                   help="none, augmented or explicit (--bias alone: explicit)")
    p.add_argument("--batch", action="store_true")
    p.add_argument("--notation", default="hz", help="hz (default), gh, pq or za")
    p.set_defaults(func=run)


def run(args):

    net = network_from(args, VERIFY)
    verdict = verify(net, args.param, args.claim, notation=args.notation)
    print(format_verdict(verdict))
    return EXIT_OK if verdict.holds else EXIT_DOES_NOT_HOLD

