"""``derive export``: write the NumPy gradient module of a network (SPEC §6).

    derive export --widths 4,8,8,1 --activation sigmoid --loss bce -o grads.py
"""
from ..codegen.module import export_numpy
from ..util.files import check_writable, write_atomic
from .arguments import EXPORT, network_from


def register(subparsers):
    parser = subparsers.add_parser(
        "export", help="write a standalone NumPy module with forward, loss and gradients",
        description="Generate the gradient code of a network from its derivation.")
    parser.add_argument("--widths", help="layer widths n_0,…,n_L, e.g. 4,8,8,1")
    parser.add_argument("--depth", type=int, help="number of layers (default: from --widths "
                        "or --activations)")
    parser.add_argument("--activation", help="one activation for every layer")
    parser.add_argument("--output-activation", dest="output_activation",
                        help="the output layer's activation (with --activation)")
    parser.add_argument("--activations", help="one activation per layer, comma-separated")
    parser.add_argument("--loss", required=True, help="mse, sse, mean_mse, bce or cce")
    parser.add_argument("--bias", nargs="?", const="explicit", default="none",
                        help="none, augmented or explicit (--bias alone means explicit)")
    parser.add_argument("--batch", action="store_true", help="columns are samples; the "
                        "loss is the batch mean")
    parser.add_argument("-o", "--out", required=True, help="the .py file to write")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.set_defaults(func=run)


def run(args):

    check_writable(args.out, args.force)   # fail before any work
    net = network_from(args, EXPORT)
    module = export_numpy(net)
    write_atomic(args.out, module.source, force=args.force)
    print(f"wrote {args.out} ({net.describe()})")
    return 0
