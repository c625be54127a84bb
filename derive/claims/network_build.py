"""Claim trees to SymPy matrix expressions (with shape checks), and back to text.

`build` turns a tree from `derive.claims.grammar.parse` into our node types for one network,
checking every sum and product against the symbolic widths; a misfit raises
`ShapeMismatch` (a verdict, not an error).

>>> from derive import Network
>>> from derive.claims.grammar import parse
>>> from derive.printing.claim_text import to_claim
>>> net = Network.uniform(depth=3, activation="sigmoid", loss="bce")
>>> to_claim(build(parse("(z_L - y) z_{L-1}^T"), net)[0])
'(z_3 - y) z_2^T'
"""
from sympy import Identity, Integer, OneMatrix, Rational, exp, log, sqrt
from sympy.matrices.expressions import HadamardPower, HadamardProduct, MatAdd, MatMul, Transpose
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..errors import ClaimError
from ..ir.nodes import Act, MatPartial, Var
from ..printing.claim_text import shape_text, to_claim
from ..vocab import BATCH, DEPTH, EPSILON, LAMBDA, LAYER, LOSS, WIDTH
from .shapes import ShapeMismatch
from .spread import Open, settle, unify


def _show(e, notation="hz"):
    return f"{to_claim(e, notation)} ({shape_text(e.shape)})"


ONES = (("num", 1), ("T", ("num", 1)))     # the ones column 1 and row 1^T of a product
_NORMED = (lambda net: net.norm != "none", "norm='layer' or norm='batch'")
#: the §1b quantities a claim may name: which networks have them
KIND_NEEDS = {"gamma": _NORMED, "beta": _NORMED, "hhat": _NORMED, "xhat": _NORMED,
              "mu": _NORMED, "var": _NORMED,
              "M": (lambda net: net.dropout, "dropout=True"),
              "a": (lambda net: net.kinds, "residual, norm or dropout")}


class Builder:
    """Builds one claim tree for ``net``; ``depth`` fixes L for a symbolic network."""

    def __init__(self, net, depth=None, outer=False, notation="hz"):
        self.net, self.notation = net, notation     # messages name things in the notation
        self.outer = outer     # read two juxtaposed column vectors as u vᵀ (for hints)
        if net.symbolic:
            self.L = DEPTH if depth is None else Integer(depth)
        else:
            self.L = Integer(net.depth)
        self.concrete = self.L.is_Integer

    def layer(self, spec):
        base, off = spec
        value = {"L": self.L, "l": LAYER, None: Integer(0)}[base] + off
        return value

    def width(self, layer):
        if self.net.widths is not None and layer.is_Integer:
            return Integer(self.net.widths[int(layer)])
        if self.net.residual and self._hidden(layer):
            return WIDTH[1]   # a residual network's hidden layers share one width
        return WIDTH[layer]

    def _hidden(self, layer):
        """Is ``layer`` a hidden layer (1 … L-1)? For a symbolic depth, any layer other
        than 0 and L (L-1, L-2, l) is taken as hidden: the claim's layers are checked
        to exist at each concrete depth later."""
        if layer.is_Integer and self.L.is_Integer:
            return 1 <= layer <= self.L - 1
        if layer.is_Integer:
            return layer >= 1
        return layer != self.L

    def activation(self, layer):
        """The activation name of a layer (an expression in L and l, or a number)."""
        acts = self.net.activations
        if self.net.symbolic:
            return acts[1] if layer == self.L else acts[0]
        return acts[int(layer) - 1] if layer.is_Integer else acts[0]

    def var(self, kind, spec):
        layer = self.layer(spec)
        low = 0 if kind in ("z", "zaug") else 1
        if self.concrete and layer.is_Integer and not low <= layer <= self.L:
            raise ClaimError(f"layer {layer} of {kind} does not exist in a network of depth "
                             f"{self.L} (layers {low} … {self.L})")
        n, m = self.width, self.net.samples
        if kind == "W":
            extra = 1 if self.net.bias == "augmented" else 0
            return Var("W", layer, n(layer), n(layer - 1) + extra)
        if kind in ("Wbar", "zaug"):
            if self.net.bias != "augmented":
                raise ClaimError(f"{kind} exists only with bias='augmented'")
            if kind == "Wbar":
                return Var("Wbar", layer, n(layer), n(layer - 1))
            return Var("zaug", layer, n(layer) + 1, m)
        if kind == "b":
            if self.net.bias != "explicit":
                raise ClaimError("b_l exists only with bias='explicit'")
            return Var("b", layer, n(layer), 1)
        if kind == "y":
            return Var("y", self.L, n(self.L), m)
        if kind in KIND_NEEDS:
            self._hidden_kind(kind, layer)
            if kind in ("gamma", "beta"):
                return Var(kind, layer, n(layer), 1)
            if kind in ("mu", "var"):   # per sample (layer norm) or per feature (batch)
                return Var(kind, layer, 1, m) if self.net.norm == "layer" else \
                    Var(kind, layer, n(layer), 1)
        return Var(kind, layer, n(layer), m)

    def _hidden_kind(self, kind, layer):
        """γ_l, β_l, ĥ_l, x̂_l exist on the hidden layers of a normalized network, M_l with
        dropout, a_l with dropout or residual layers."""
        needs, option = KIND_NEEDS[kind]
        if not needs(self.net):
            raise ClaimError(f"{kind}_l exists only with {option}")
        if self.concrete and layer.is_Integer and not 1 <= layer <= self.L - 1:
            raise ClaimError(f"{kind}_{layer}: only the hidden layers 1 … {self.L - 1} have it")

    def const(self, name):
        if name == "epsilon" and self.net.norm == "none":
            raise ClaimError("epsilon exists only with norm='layer' or norm='batch'")
        if name == "lambda" and not self.net.weight_decay:
            raise ClaimError("lambda exists only with weight_decay=True")
        return EPSILON if name == "epsilon" else LAMBDA

    def build(self, tree, target=None):
        """The expression of a claim tree; sizes the claim leaves open (a ones vector's
        length, an identity's size) are the ``target`` shape's where they stand in the
        claim's own shape, and 1 elsewhere."""
        return settle(self.part(tree), target)

    def part(self, tree):
        """The expression of a subtree; it may still hold `Open` sizes."""
        op = tree[0]
        if op == "num":
            return tree[1]
        if op == "batch":
            return BATCH
        if op == "const":
            return self.const(tree[1])
        if op == "identity":
            k = Open()
            return Identity(k)
        if op == "width":
            return self.width(self.layer(tree[1]))
        if op == "var":
            return self.var(tree[1], tree[2])
        if op == "call":
            return self.call(*tree[1:])
        if op == "cot":    # ∂J/∂z_l …: its value comes from the derivation at each instance
            return MatPartial(LOSS, self.var(tree[1], tree[2]))
        if op == "matmul":
            return self.chain(tree)
        if op in ("had", "add", "sub"):
            return self.run(tree)
        args = [self.part(t) if isinstance(t, tuple) else t for t in tree[1:]]
        return getattr(self, "op_" + op)(*args)

    def chain(self, tree):
        """A product of juxtaposed factors. A literal 1 (1^T) among them is a ones column
        (row) when another factor is a matrix, its length fixed by its neighbour or left
        open (``1 1^T`` is the all-ones matrix); in a product of numbers it is 1."""
        items = []
        while tree[0] == "matmul":
            items.append(tree[2])
            tree = tree[1]
        items = [tree] + items[::-1]
        built = [None if t in ONES else self.part(t) for t in items]
        if any(self.is_matrix(b) for b in built):
            built = [b if t not in ONES else OneMatrix(Open(), 1) if t == ONES[0]
                     else OneMatrix(1, Open()) for t, b in zip(items, built)]
        else:
            built = [Integer(1) if b is None else b for b in built]
        product = built[0]
        for b in built[1:]:
            product = self.op_matmul(product, b)
        return product

    def run(self, tree):
        """A left-associated run of sums or of Hadamard products, built in a loop (a
        chain of 200 ⊙ is no recursion 200 deep) into one flat node."""
        same = ("had",) if tree[0] == "had" else ("add", "sub")
        steps = []
        while tree[0] in same:
            steps.append((tree[0], tree[2]))
            tree = tree[1]
        result = self.part(tree)
        for op, t in reversed(steps):
            result = getattr(self, "op_" + op)(result, self.part(t))
        return result

    def show(self, e):
        """A subexpression and its shape, for a message, in the claim's notation."""
        return _show(e, self.notation)

    @staticmethod
    def is_matrix(e):
        return isinstance(e, MatrixExpr)

    def op_neg(self, a):
        return -a

    def op_add(self, a, b):
        if self.is_matrix(a) and not self.is_matrix(b):
            a, b = b, a
        if not self.is_matrix(b):
            return a + b
        if not self.is_matrix(a):   # a scalar next to a matrix: that many ones
            return MatAdd(OneMatrix(*b.shape) if a == 1 else self.scale(a, OneMatrix(*b.shape)), b)
        a, b, fits = unify(a, b)
        if not fits:
            raise ShapeMismatch(f"cannot add {self.show(a)} and {self.show(b)}")
        return MatAdd(*_terms(a, MatAdd), b)

    def op_sub(self, a, b):
        if self.is_matrix(a) and self.is_matrix(b):
            a, b, fits = unify(a, b)
            if not fits:
                raise ShapeMismatch(f"cannot subtract {self.show(b)} from {self.show(a)}")
        return self.op_add(a, -b)

    def scale(self, a, b):
        """A product with at least one scalar; MatMul keeps 0 · M unevaluated."""
        if self.is_matrix(a):
            a, b = b, a
        return MatMul(a, b) if self.is_matrix(b) else a * b

    def op_matmul(self, a, b):
        if not (self.is_matrix(a) and self.is_matrix(b)):
            return self.scale(a, b)
        a, b, fits = unify(a, b, ((1, 0),))
        if fits:
            return MatMul(a, b)
        if self.outer and a.shape[1] == 1 and b.shape[1] == 1:
            return MatMul(a, Transpose(b))   # u v juxtaposed, read as the outer product u vᵀ
        if (1, 1) in (a.shape, b.shape):     # a 1×1 matrix multiplies as a scalar
            one, other = (a, b) if a.shape == (1, 1) else (b, a)
            rows, cols = other.shape
            return HadamardProduct(MatMul(OneMatrix(rows, 1), one, OneMatrix(1, cols)), other)
        raise ShapeMismatch(f"cannot multiply {self.show(a)} by {self.show(b)}")

    def op_times(self, a, b):
        matrices = self.is_matrix(a) and self.is_matrix(b)
        if matrices and a.shape[1] != b.shape[0] and a.shape == b.shape:
            return HadamardProduct(a, b)
        return self.op_matmul(a, b)

    def op_had(self, a, b):
        if not (self.is_matrix(a) and self.is_matrix(b)):
            return self.scale(a, b)
        a, b, fits = unify(a, b)
        if not fits:
            raise ShapeMismatch(f"cannot take the Hadamard product of {self.show(a)} and "
                                f"{self.show(b)}")
        return HadamardProduct(*_terms(a, HadamardProduct), b)

    def op_div(self, a, b):
        if self.is_matrix(b):
            if b.shape == (1, 1) and self.is_matrix(a) and a.shape != (1, 1):
                return self.op_matmul(HadamardPower(b, -1), a)   # by a 1×1: a scalar
            return self.op_had(a, HadamardPower(b, -1))
        return a / b if not self.is_matrix(a) else self.scale(1 / b, a)

    def op_T(self, a):
        return Transpose(a) if self.is_matrix(a) else a

    def op_pow(self, a, n):
        return HadamardPower(a, n) if self.is_matrix(a) else a ** n

    op_epow = op_pow     # X^{∘k}, X.^k: a network's X^k is elementwise already

    def call(self, fname, order, tree):
        arg = self.build(tree)    # a function's argument is whole: its sizes are settled
        if fname == "diag":
            if order or not self.is_matrix(arg) or arg.shape[1] != 1:
                raise ClaimError("diag takes a column vector")
            return DiagMatrix(arg)
        if fname in ("exp", "log", "sqrt"):
            if order:
                raise ClaimError(f"write the derivative of {fname} out")
            if fname == "sqrt":    # elementwise, the shape kept: the power 1/2 of each entry
                return HadamardPower(arg, Rational(1, 2)) if self.is_matrix(arg) else sqrt(arg)
            return Act(fname, arg) if self.is_matrix(arg) else {"exp": exp, "log": log}[fname](arg)
        if not self.is_matrix(arg):
            raise ClaimError(f"{fname} of a scalar: apply activations to h_l")
        if fname in ("sigma", "phi", "varphi"):
            if isinstance(arg, Var) and arg.kind in ("h", "z", "hhat"):   # σ'(z_l): a slip
                fname = self.activation(arg.layer)
            elif len(set(self.net.activations)) == 1:
                fname = self.net.activations[0]
            else:
                raise ClaimError("σ of something other than h_l in a network with several "
                                 "activations: name the activation (e.g. tanh(…))")
        if fname == "softmax" and order:
            raise ClaimError("softmax' is a Jacobian, not an elementwise derivative")
        return Act(fname, arg, order)


def _terms(e, kind):
    """The operands of ``e`` if it is a ``kind`` node already (a run stays one flat
    node), else ``e`` alone."""
    return e.args if isinstance(e, kind) else (e,)


def build(tree, net, depth=None, outer=False, target=None, notation="hz"):
    """(expression, shape or None for a scalar) of a claim tree; ``outer`` reads two
    juxtaposed column vectors as their outer product (a hint's reading, never the
    claim's: juxtaposition is the matrix product); ``target`` is the shape the claim is
    compared with, which fixes the sizes the claim leaves open (`Builder.build`)."""
    expr = Builder(net, depth, outer, notation).build(tree, target)
    return expr, (expr.shape if isinstance(expr, MatrixExpr) else None)
