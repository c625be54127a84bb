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
from ..errors import DeriveError, SpecError
from ..spec.network import Network

EXIT_OK, EXIT_DOES_NOT_HOLD = 0, 1


def register(subparsers):
    p = subparsers.add_parser("verify", help="check a closed form for ∂J/∂W_l, ∂J/∂b_l, "
                              "δ_l or ∂J/∂z_l")
    p.add_argument("--depth", default="L", help="an integer depth or L (default L)")
    p.add_argument("--activation", default=None, help="activation of every layer")
    p.add_argument("--output", default=None, help="output-layer activation, if different")
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


def network_from(args):

    depth = args.depth.strip()
    if depth != "L":
        if not depth.isdigit():
            raise SpecError(f"--depth must be a positive integer or L, got {depth!r}")
        depth = int(depth)
    widths = None
    if args.widths:
        try:
            widths = tuple(int(w) for w in args.widths.split(","))
        except ValueError:
            raise SpecError(f"--widths must be comma-separated integers, got {args.widths!r}") from None
    options = dict(loss=args.loss, bias=args.bias, batch=args.batch, widths=widths)
    if args.activations:
        acts = tuple(a.strip() for a in args.activations.split(","))
        return Network(activations=acts, depth=depth, **options)
    if not args.activation:
        raise SpecError("give --activation NAME or --activations A,B,…")
    return Network.uniform(depth=depth, activation=args.activation, output=args.output,
                           **options)


def run(args):

    net = network_from(args)
    verdict = verify(net, args.param, args.claim, notation=args.notation)
    print(format_verdict(verdict))
    return EXIT_OK if verdict.holds else EXIT_DOES_NOT_HOLD


__all__ = ["register", "run", "network_from", "DeriveError"]
