"""``derive export``: write the gradient module of a network (SPEC §5, §5b, §6).

    derive export --widths 4,8,8,1 --activation sigmoid --loss bce -o grads.py
    derive export --widths 4,8,8,1 --activation sigmoid --loss bce --target torch -o grads.py
"""
from ..codegen.targets import TARGETS, export_network
from ..util.files import check_writable, is_stdout, write_atomic
from .arguments import (
    BIAS_CHOICES,
    EXPORT,
    LOSS_CHOICES,
    add_activation_options,
    add_arch_options,
    add_layer_kind_options,
    add_output_file,
    network_from,
    output_format,
    refused_spelling,
    subcommand,
)


def register(subparsers):
    p = subcommand(subparsers, "export", "write a standalone module (NumPy, PyTorch, JAX or "
                   "array API) with forward, loss and gradients", [
                       "derive export --widths 4,8,8,1 --activation sigmoid --loss bce "
                       "-o grads.py",
                       "derive export --widths 3,5,2 --activations tanh,softmax --loss cce "
                       "-o -",
                       "derive export --widths 4,8,8,8,1 --activation tanh "
                       "--output-activation sigmoid --loss bce --bias --residual --norm layer "
                       "--dropout --weight-decay -o grads.py",
                       "derive export --widths 784,256,10 --activations relu,softmax --loss cce "
                       "--batch --bias --target torch -o grads_torch.py"],
                   "Generate the gradient code of a network from its derivation.")
    p.add_argument("--widths", metavar="N0,…,NL", help="layer widths n_0,…,n_L, e.g. 4,8,8,1")
    p.add_argument("--depth", type=int, help="number of layers (default: from --widths "
                   "or --activations)")
    add_activation_options(p)
    p.add_argument("--loss", required=True, choices=LOSS_CHOICES, help="the loss")
    p.add_argument("--bias", nargs="?", const="explicit", default="none",
                   choices=BIAS_CHOICES, help="the bias terms (--bias alone: explicit)")
    p.add_argument("--batch", action="store_true", help="columns are samples; the "
                   "loss is the batch mean")
    add_layer_kind_options(p)
    add_arch_options(p)
    p.add_argument("--target", default="numpy", choices=TARGETS, help="the array library: "
                   "numpy (default), torch (an autograd.Function and an nn.Module), jax (a "
                   "custom_vjp loss) or array_api (any array-API library)")
    add_output_file(p, required=True, what="the .py file to write")
    refused_spelling(p, "--out", "-o/--output")
    p.set_defaults(func=run)


def run(args):

    output_format(args.output, None, "python", ("python",), "export")   # not x.tex
    check_writable(args.output, args.force)   # fail before any work
    net = network_from(args, EXPORT)
    module = export_network(net, args.target)
    write_atomic(args.output, module.source, force=args.force)
    if not is_stdout(args.output):
        print(f"wrote {args.output} ({net.describe()})")
    return 0
