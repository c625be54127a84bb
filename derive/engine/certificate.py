"""`certify`: prove the matrix forms against the componentwise derivative of the fully
expanded loss, at small concrete widths.

For every parameter entry w, ∂J/∂w is computed by SymPy's differentiation rules from
the expanded scalar loss (the brute-force route we never take elsewhere; `shared_diff`
gives ``sympy.diff``'s very expression, each shared subtree differentiated once) and compared with the entry of the
derived matrix form, with every δ evaluated through the recursion:

* exactly: the difference, with σ' written through σ, cancels to zero;
* numerically, always: at random rational points evaluated with 50 significant digits,
  so neither a silent symbolic zero nor a floating-point coincidence decides.
"""
import random
from dataclasses import dataclass, field

from sympy import Integer

from ..calculus.compare import TOLERANCE, exactly_zero, numeric_gap
from ..calculus.evaluate import normalise
from ..calculus.shared_diff import shared_diff
from ..errors import SpecError, shown
from ..ir import display
from ..ir.quantities import PARAMETERS, parameter_entries
from ..spec.network import ordered_widths
from ..vocab import DEPTH, LAYER
from .instance import Instance, random_point, target_constraint

DEFAULT_WIDTHS = (2, 3, 2, 2)
RESIDUAL_WIDTHS = (3, 2, 2, 2)   # a residual network's hidden widths are equal
PARAMETER_KINDS = PARAMETERS
#: the certificate differentiates the fully expanded loss once per parameter entry, and
#: that loss grows with every width: widths (6, 6, 6), 72 entries, take about 4 s
MAX_ENTRIES = 72
MAX_WIDTH = 16
#: the exact proof cancels each entry's difference as a rational function of the
#: expanded loss, at a cost that grows much faster than the loss's tree: sigmoid at
#: depth 6, widths 2 (1,801 nodes) takes 8 s, at depth 7 (3,593) 30 s, a batch softmax
#: (2, 3, 3, 3) (5,713) over 200 s; past this many nodes it is refused up front
MAX_EXACT_TREE = 2000


def tree_size(expr):
    """The number of nodes of ``expr`` written out as a tree (shared subtrees counted
    at every place), computed over the shared DAG without recursion."""
    sizes, stack = {}, [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if e in sizes:
            continue
        if ready:
            sizes[e] = 1 + sum(sizes[a] for a in e.args)
        else:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if a not in sizes)
    return sizes[expr]


def check_exact_work(inst):
    """Refuse, before any differentiation, an exact proof that would run for minutes."""
    size = tree_size(inst.loss)
    if size > MAX_EXACT_TREE:
        raise SpecError(f"widths {inst.widths}: the expanded loss has {size} nodes; an exact "
                        f"proof would take minutes (the limit is {MAX_EXACT_TREE}): use smaller "
                        "widths or fewer layers, or certify(exact=False) for the 50-digit "
                        "numeric check")


def check_size(net, widths):
    """Refuse, before any work, widths whose certificate would run for minutes."""
    widths = ordered_widths(widths)       # a bool or a set is no width
    if max(widths) > MAX_WIDTH:
        raise SpecError(f"widths: checks run at small concrete widths, at most {MAX_WIDTH} "
                        f"per layer (got {shown(max(widths))})")
    entries = parameter_entries(net, widths)
    if entries > MAX_ENTRIES:
        raise SpecError(f"widths {widths}: {entries} parameter entries to certify; the "
                        f"limit is {MAX_ENTRIES} (each one differentiates the expanded loss)")


@dataclass
class Certificate:
    holds: bool
    widths: tuple
    m: int = 1                   # the batch size (a batch network: distinct from widths)
    entries: int = 0
    exact: bool = False          # True when every entry was proved symbolically
    worst: float = 0.0           # largest numeric discrepancy seen
    failures: list = field(default_factory=list)

    def __bool__(self):
        return self.holds

    def _repr_markdown_(self):
        """Notebook display: certified or not, how, at which sizes, the failures."""
        return display.markdown(self)


def layer_forms(d, depth):
    """{k: (delta form, {kind: grad form})} for every concrete layer k of ``depth``."""
    forms = {}
    for k in range(depth, 0, -1):
        if d.net.symbolic:
            if k == depth:
                key, mapping = DEPTH, {DEPTH: Integer(depth)}
            elif k == depth - 1:
                key, mapping = DEPTH - 1, {DEPTH: Integer(depth)}
            else:
                key, mapping = LAYER, {LAYER: Integer(k), DEPTH: Integer(depth)}
            key_sub = key.xreplace(mapping)
        else:
            key, mapping, key_sub = Integer(k), {}, Integer(k)
        delta = d._deltas[key].xreplace(mapping)
        grads = {kind: d._grads[(kind, key)].xreplace(mapping)
                 for kind in PARAMETER_KINDS if (kind, key) in d._grads}
        named = [(sym.xreplace(mapping), form.xreplace(mapping))
                 for sym, form in d.cotangents(key)] if d._cotangents else []
        forms[int(key_sub)] = (delta, grads, named)
    return forms


def matrix_gradients(d, inst, lowest=1):
    """Evaluate every δ (top-down, each layer's named cotangents ∂J/∂z_l, ∂J/∂ĥ_l …
    first) and every gradient form at the instance, from the output layer down to
    layer ``lowest`` (δ_k needs only the layers above it)."""
    forms = layer_forms(d, inst.depth)
    out = {}
    for k in range(inst.depth, max(lowest, 1) - 1, -1):
        delta, grads, named = forms[k]
        for sym, form in named:
            inst.env[("d" + sym.wrt.kind, k)] = inst.evaluate(form)
        inst.env[("delta", k)] = inst.evaluate(delta)
        for kind, form in grads.items():
            out[(kind, k)] = inst.evaluate(form)
    return out


def certify(d, widths=None, exact=True, points=2, seed=0):
    """Check every entry of every gradient of derivation ``d`` at concrete ``widths``."""
    net = d.net
    if widths is None:
        widths = net.widths if net.widths is not None else \
            ((RESIDUAL_WIDTHS if net.residual else DEFAULT_WIDTHS) if net.symbolic
             else (2,) * (net.depth + 1))
    widths = ordered_widths(widths)
    if not net.symbolic and len(widths) != net.depth + 1:
        raise SpecError(f"widths: expected {net.depth + 1} values, got {len(widths)}")
    if net.widths is not None and widths != tuple(net.widths):
        raise SpecError("widths: this network has fixed widths; certify it at those")
    if net.symbolic and len(widths) < 2:
        raise SpecError("widths: a symbolic depth needs at least 2 layers to certify")
    if net.residual and len(widths) < 4 or net.residual and len(set(widths[1:-1])) != 1:
        raise SpecError(f"widths {widths}: a residual network is certified at depth 3 or "
                        "more, with equal hidden widths")
    check_size(net, widths)
    inst = Instance(net, widths)
    if exact and net.norm == "none":
        check_exact_work(inst)
    claimed = matrix_gradients(d, inst)
    constraint = target_constraint(inst)
    rng = random.Random(seed)
    points_at = [random_point(inst, rng) for _ in range(points)]
    # the normalizations' square roots are checked at the points only (their exact
    # cancellation would expand the whole normalized loss)
    cert = Certificate(holds=True, widths=widths, m=inst.m, exact=exact and net.norm == "none")
    for kind, layer, symbols in inst.params:
        matrix = claimed[(kind, layer)]
        for r in range(symbols.rows):
            for c in range(symbols.cols):
                brute = shared_diff(inst.loss, symbols[r, c])
                claim = matrix[r, c]
                cert.entries += 1
                if exact and cert.exact:     # (xreplace walks the tree: only when used)
                    difference = (brute - claim).xreplace(constraint) if constraint \
                        else brute - claim
                    cert.exact = exactly_zero(normalise(difference))
                for values in points_at:
                    gap = numeric_gap(brute, claim, values)
                    cert.worst = max(cert.worst, gap)
                    if gap > TOLERANCE:
                        cert.holds = False
                        cert.failures.append((kind, layer, r + 1, c + 1, gap))
    if not cert.holds:
        cert.exact = False
    return cert
