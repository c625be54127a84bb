"""``--arch``: which constructor of SPEC §1c builds the network, and its own options.

`ARCHS` is the table: one `Arch` row per architecture, naming its options (flag,
destination, help) and the function that builds the network from the parsed arguments.
``mlp`` is the §1 network (`derive.cli.arguments.network_from` reads it). A new
architecture is one row here and its option specs in `OPTIONS`; every subcommand that
calls `add_arch_options` offers it. Options of another architecture than the one chosen
are refused in one line, never silently ignored.

>>> from argparse import Namespace
>>> args = Namespace(arch="conv1d", channels="1,2", kernel="2", pool="max", pool_size=None,
...                  length="6", head_widths="3,2", activation=None,
...                  output_activation=None, loss="cce")
>>> ARCHS["conv1d"].build(args).describe()
'conv1d; channels 1, 2; kernel 2; length 6; relu; max pool 2; head 3, 2; softmax; loss cce'
>>> conv_options(Namespace(**{**vars(args), "channels": "1,x"}), "conv1d")
Traceback (most recent call last):
...
derive.errors.SpecError: --channels must be positive integers separated by commas, got '1,x'
"""
from dataclasses import dataclass
from typing import Callable

from ..engine.graph import leaves
from ..errors import DeriveError, SpecError, shown
from ..ir.quantities import KINDS
from ..spec.network import Network

#: an integer option of more digits than this is refused before ``int``
MAX_DIGITS = 9

#: every architecture option: flag → (destination, metavar, help)
OPTIONS = {
    "--channels": ("channels", "C0,C1,…", "the channels: the input's, then each "
                   "convolution's (e.g. 1,4,8)"),
    "--kernel": ("kernel", "K", "the kernel width (conv2d: K or KH,KW)"),
    "--pool": ("pool", "{max,avg,none}", "the pooling after each convolution"),
    "--pool-size": ("pool_size", "P", "the pooling window and stride"),
    "--length": ("length", "N", "the input sequence's length (conv1d)"),
    "--size": ("size", "H,W", "the input image's height and width (conv2d)"),
    "--head-widths": ("head_widths", "N1,…", "the dense head's widths after the "
                      "flattening, the last the output's"),
    "--cell": ("cell", "{tanh,lstm,gru}", "the recurrent cell"),
    "--steps": ("steps", "T", "the number of time steps: a number (unrolled) or T"),
    "--readout": ("readout", "{every,last}", "the loss at every step or at the last only"),
    "--blocks": ("blocks", "B", "the transformer's blocks"),
    "--heads": ("heads", "H", "the attention heads of each block"),
    "--causal": ("causal", None, "each token attends to itself and the tokens before it"),
    "--mlp-activation": ("mlp_activation", "NAME", "the activation of each block's MLP"),
    "--width": ("width", "D", "a token's features d (default: symbolic d)"),
    "--tokens": ("tokens", "T", "the tokens T (default: symbolic T)"),
}
#: the §1 network's own options: (destination, the value when not given)
MLP_OPTIONS = {"--depth": ("depth", None), "--widths": ("widths", None),
               "--activations": ("activations", None), "--bias": ("bias", "none"),
               "--batch": ("batch", False), "--residual": ("residual", False),
               "--norm": ("norm", "none"), "--dropout": ("dropout", False),
               "--weight-decay": ("weight_decay", False)}


class Unset(str):
    """A subcommand's default for an MLP option (``notes``' sigmoid and bce), marked so
    that a §1c network keeps its constructor's own default unless the option is typed."""


def _given(value):
    return value if value and not isinstance(value, Unset) else None


def _ints(text, flag):
    """Comma-separated positive integers, each of at most `MAX_DIGITS` digits."""
    parts = [p.strip() for p in str(text).split(",")]
    if not all(p.isdigit() and len(p) <= MAX_DIGITS and int(p) > 0 for p in parts):
        raise SpecError(f"{flag} must be positive integers separated by commas, got "
                        f"{shown(text)}")
    return tuple(int(p) for p in parts)


def _int(text, flag):
    value = _ints(text, flag)
    if len(value) != 1:
        raise SpecError(f"{flag} must be one positive integer, got {shown(text)}")
    return value[0]


def _pool(text):
    if text is None:
        return None
    if text not in ("max", "avg", "none"):
        raise SpecError(f"--pool must be max, avg or none, got {shown(text)}")
    return None if text == "none" else text


def conv_options(args, arch):
    """The keyword arguments of ``Network.<arch>`` that the options give (the others
    keep the constructor's defaults)."""
    given = {}
    if args.channels is not None:
        given["channels"] = _ints(args.channels, "--channels")
    if args.kernel is not None:
        kernel = _ints(args.kernel, "--kernel")
        given["kernel"] = kernel[0] if arch == "conv1d" or len(kernel) == 1 else kernel
    if args.pool is not None:
        given["pool"] = _pool(args.pool)
    if args.pool_size is not None:
        given["pool_size"] = _int(args.pool_size, "--pool-size")
    if arch == "conv1d" and args.length is not None:
        given["length"] = _int(args.length, "--length")
    if arch == "conv2d" and getattr(args, "size", None) is not None:
        size = _ints(args.size, "--size")
        given["size"] = size[0] if len(size) == 1 else size
    if args.head_widths is not None:
        given["head_widths"] = _ints(args.head_widths, "--head-widths")
    given["activation"] = _given(args.activation) or "relu"
    if _given(args.output_activation):
        given["output"] = args.output_activation
    if _given(args.loss):
        given["loss"] = args.loss
    return given


def rnn_options(args):
    """The keyword arguments of ``Network.rnn`` that the options give."""
    given = {key: getattr(args, key) for key in ("cell", "readout") if getattr(args, key)}
    if args.steps is not None:
        given["steps"] = "T" if args.steps == "T" else _int(args.steps, "--steps")
    if args.output_activation:
        given["output"] = args.output_activation
    if args.loss:
        given["loss"] = args.loss
    return given


def transformer_options(args):
    """The keyword arguments of ``Network.transformer`` that the options give."""
    given = {dest: _int(getattr(args, dest), flag) for flag, dest in
             (("--blocks", "blocks"), ("--heads", "heads"), ("--width", "width"),
              ("--tokens", "tokens")) if getattr(args, dest, None) is not None}
    given["causal"] = bool(args.causal)
    for dest, key in (("mlp_activation", "mlp_activation"), ("output_activation", "head"),
                      ("loss", "loss")):
        if _given(getattr(args, dest, None)):
            given[key] = getattr(args, dest)
    return given


@dataclass(frozen=True)
class Arch:
    """One architecture: its own option flags and its network from the arguments."""

    name: str
    flags: tuple
    build: Callable


ARCHS = {
    "mlp": Arch("mlp", (), None),    # read by derive.cli.arguments.network_from
    "conv1d": Arch("conv1d", ("--channels", "--kernel", "--pool", "--pool-size", "--length",
                              "--head-widths"),
                   lambda args: Network.conv1d(**conv_options(args, "conv1d"))),
    "conv2d": Arch("conv2d", ("--channels", "--kernel", "--pool", "--pool-size", "--size",
                              "--head-widths"),
                   lambda args: Network.conv2d(**conv_options(args, "conv2d"))),
    "rnn": Arch("rnn", ("--cell", "--steps", "--readout"),
                lambda args: Network.rnn(**rnn_options(args))),
    "transformer": Arch("transformer", ("--blocks", "--heads", "--causal", "--mlp-activation",
                                        "--width", "--tokens"),
                        lambda args: Network.transformer(**transformer_options(args))),
}


def add_arch_options(parser):
    """--arch and every architecture's options (each flag once); the subcommand's
    defaults of --activation and --loss marked `Unset` (call it after adding them)."""
    for dest in ("activation", "output_activation", "loss"):
        if isinstance(parser.get_default(dest), str):
            parser.set_defaults(**{dest: Unset(parser.get_default(dest))})
    parser.add_argument("--arch", default="mlp", choices=tuple(ARCHS),
                        help="the architecture: mlp (§1, the default) or a §1c network "
                             "built from its own options below")
    flags = {flag for arch in ARCHS.values() for flag in arch.flags}
    for flag, (dest, metavar, text) in OPTIONS.items():
        if flag in flags:
            users = "|".join(a.name for a in ARCHS.values() if flag in a.flags)
            value = dict(metavar=metavar) if metavar else dict(action="store_const", const=True)
            parser.add_argument(flag, dest=dest, default=None, help=f"{text} (--arch {users})",
                                **value)


def check_flags(args):
    """One line refusing an option of another architecture than --arch's."""
    arch = ARCHS[args.arch]
    for flag, (dest, _, _) in OPTIONS.items():
        if getattr(args, dest, None) is not None and flag not in arch.flags:
            users = "|".join(a.name for a in ARCHS.values() if flag in a.flags)
            raise SpecError(f"{flag} is an option of --arch {users}, not of --arch {args.arch}")
    if args.arch != "mlp":
        for flag, (dest, unset) in MLP_OPTIONS.items():
            if getattr(args, dest, unset) != unset:
                raise SpecError(f"{flag} is an option of --arch mlp, not of --arch {args.arch}")


def arch_network(args):
    """The network of a §1c architecture (None for --arch mlp), its flags checked."""
    if not hasattr(args, "arch"):
        return None
    check_flags(args)
    return None if args.arch == "mlp" else ARCHS[args.arch].build(args)


#: the most trained entries ``notes --certify`` expands the loss in (one conv layer of a
#: few channels at a tiny size: seconds; two layers of 46 entries already take half a
#: minute, since the expanded loss grows with every layer)
MAX_CERTIFY_ENTRIES = 40


def certificate_line(args, d):
    """``notes --certify``: one line, the certificate of a network of calls at its sizes
    (every gradient entry against ``sympy.diff`` of the expanded loss)."""
    if args.arch == "mlp":
        raise DeriveError("--certify is an option of --arch conv1d|conv2d (an MLP's "
                          "certificate is in its notes)")
    entries = sum(rows * cols for (kind, _), (rows, cols) in
                  leaves(d.net, d.sizes()).items() if KINDS[kind].trained)
    if entries > MAX_CERTIFY_ENTRIES:
        raise DeriveError(f"--certify expands the loss in every trained entry: this network "
                          f"has {entries}, at most {MAX_CERTIFY_ENTRIES} (give fewer "
                          "--channels or a smaller --length/--size or --head-widths)")
    cert = d.certify()
    verdict = "holds" if cert.ok else "FAILS"
    return (f"certified against the expanded loss: {verdict} ({cert.checked} gradient "
            f"entries, largest difference {cert.worst:.1e})")
