"""Proofs once, not per process: the record of which op rows' VJP claims are proved.

Checking a row's claimed VJPs against the ones derived from its index forward
(`derive.engine.vjp.check`) costs SymPy simplification; the row's math does not change
between processes, so the proof is recorded once, with a hash of exactly the math the
check reads (`row_math`: the ports and their shapes, the index forward for every port it
is differentiated by, the claimed VJPs, the auxiliary forms, the claimed Jacobian), and
shipped in `derive.engine.proof_record`. A process trusts a row whose hash is in the
record for its network shape (`proven`) and proves any other (a ``custom:`` activation,
a row changed without its record). ``tests/test_proofs.py`` re-proves every recorded
row and fails when a record is stale or missing; ``tests/write_proofs.py`` rewrites it.

>>> proven(op_row("tanh"), ("tanh", "none", False, "none"))
True
>>> proven(op_row("custom:x**3"), ("custom:x**3", "none", False, "none"))
False
"""
from hashlib import sha256

from sympy import srepr

from ..vocab import i, r
from . import (
    attention,  # noqa: F401  (registers the attention's rows)
    conv,  # noqa: F401  (registers the convolution's rows)
    conv2d,  # noqa: F401  (registers the 2-D convolution's rows)
    recurrent,  # noqa: F401  (registers the recurrent cells' rows)
)
from .ops import DENSE, OPS, Shapes, op_row
from .proof_record import RECORD
from .vjp import check, cotangent, op_layer

#: the bias modes and normalizations a row's shapes can depend on
BIASES = ("none", "augmented", "explicit")
#: the port kinds whose shapes depend on the bias mode (the augmented weights and input)
BIAS_KINDS = frozenset({"W", "Wbar", "zaug", "b"})


def reads_bias(op):
    """Whether a port of ``op`` has a shape that depends on the bias mode."""
    return any(kind in BIAS_KINDS for kind, _ in op.ports.values())


def proof_key(op, bias, batch, norm="none"):
    """(row name, bias, batch, norm): the parts of the network shape the row's check
    reads — the bias mode only where a port's shape depends on it, the normalization
    only for a normalization row (its statistics' shapes), the batch always."""
    return (op.name, bias if reads_bias(op) else "none", bool(batch),
            norm if op.aux else "none")


def row_math(op, sh):
    """The text of everything `check` reads from the row at these shapes: its ports and
    their quantities, the index forward differentiated by each port, the claimed VJPs,
    the auxiliary forms and the claimed Jacobian, each as SymPy's `srepr`."""
    layer = op_layer(op)
    bound = op.bind(sh, layer)
    at = (None, None) if op.scalar else (i, r)
    parts = [op.name, op.output, repr(op.inputs), repr(sorted(op.vjps))]
    parts += [f"{port}={srepr(bound[port])}" for port in sorted(op.ports)]
    parts += [srepr(op.index(bound, *at, wrt=wrt)) for wrt in (None,) + op.inputs]
    G = None if op.scalar else cotangent(sh, op, layer)
    parts += [f"vjp {port}: {srepr(op.vjps[port](bound, G))}" for port in sorted(op.vjps)]
    parts += [f"aux {port}: {srepr(form(bound, *at))}" for port, form in sorted(op.aux.items())]
    if op.jacobian is not None:
        parts.append(srepr(op.jacobian(bound)))
        parts.append(srepr(op.jacobian_matrix(bound)) if op.jacobian_matrix else "")
    return "\n".join(parts)


def row_hash(op, key):
    """The hash of the row's math at the network shape of ``key`` (`proof_key`)."""
    return sha256(row_math(op, Shapes(*key[1:])).encode("utf-8")).hexdigest()[:24]


def proven(op, key):
    """Whether the record holds a proof of ``op`` at ``key`` for the row's math as it is now."""
    return key in RECORD and RECORD[key] == row_hash(op, key)


def checked(op_name, bias, batch, norm="none"):
    """The row of ``op_name`` with its VJP claims proved at this network shape: trusted
    from the record when its math is the recorded one, otherwise `check`-ed (once per
    process and key); a claim that does not hold raises `OpError`."""
    op = op_row(op_name)
    key = proof_key(op, bias, batch, norm)
    if key not in _PROVEN and not proven(op, key):
        check(op, Shapes(*key[1:]))
    _PROVEN.add(key)
    return op


_PROVEN = set()   # the keys proved or trusted in this process


def forget():
    """Forget what this process proved or trusted (for tests that change a row)."""
    _PROVEN.clear()


checked.cache_clear = forget


def recorded_keys():
    """Every (row, bias, batch, norm) a network can ask to be proved: each table row
    at the network shapes its check reads (batch norm needs a batch)."""
    keys = set()
    for name, op in OPS.items():
        for bias in BIASES:
            for batch in (False, True):
                for norm in ((_norm_of(name),) if op.aux else ("none",)):
                    if (norm == "batch" and not batch) or _other_bias(name, bias) \
                            or (batch and not op.batched):
                        continue
                    keys.add(proof_key(op, bias, batch, norm))
    return sorted(keys)


def _other_bias(name, bias):
    """A dense row made for another bias mode than ``bias``."""
    return name in DENSE.values() and DENSE[bias] != name


def _norm_of(name):
    return {"layer_norm": "layer", "batch_norm": "batch"}[name]


def record_source(hashes):
    """The text of `derive.engine.proof_record` for ``hashes`` = {key: row hash}."""
    lines = ['"""The shipped proof record (generated by tests/write_proofs.py; do not edit).',
             "", "Every key (row, bias, batch, norm) maps to the hash of the row's math that",
             "`derive.engine.vjp.check` proved (`derive.engine.proofs`).", '"""', "RECORD = {"]
    lines += [f"    {key!r}: {value!r}," for key, value in sorted(hashes.items())]
    return "\n".join(lines + ["}", ""])


