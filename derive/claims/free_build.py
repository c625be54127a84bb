"""From a free-expression tree to SymPy matrix expressions, inferring the shapes.

Every name gets a shape: lower-case letters are column vectors (n×1), upper-case
letters matrices (m×n), unless ``shapes`` says otherwise. Each product, sum, Hadamard
product and trace ties two dimensions together (union-find); a dimension of a vector
or matrix never silently becomes 1, so ``x A`` is a shape error rather than a row
vector. The dimensions are then named: the differentiation variable's first
(m × n, as in the notes), then in order of appearance, with letters that are not
already names in the expression.

>>> e = build_scalar(parse_free("y^T A x"), wrt="A")
>>> e.expr, e.shapes["A"], e.shapes["x"]
(y.T*A*x, (m, n), (n, 1))
"""
from dataclasses import dataclass

from sympy import (
    Integer,
    MatrixSymbol,
    Symbol,
)

from ..errors import ClaimError
from .dims import ONE, Dims
from .free_names import parse_free  # noqa: F401 (the doctest above uses it)
from .free_objects import ONES, FreeBuilder, chain
from .shapes import ShapeMismatch

DIM_LETTERS = "mnlpqrs"         # names for inferred dimensions, in this order
MAX_MATRIX_POWER = 4            # X^k up to 4, X^{-k} up to 3: more is refused (seconds)
SMALL_SIZE = 6                  # larger given sizes stay symbolic: checked at small sizes


@dataclass
class Scalar:
    """A built scalar expression with the shapes of its names and their dimensions."""
    expr: object                # a 1×1 MatrixExpr or a scalar Expr
    shapes: dict                # label -> (rows, cols), SymPy integers or symbols
    symbols: dict               # label -> MatrixSymbol
    order: list                 # labels in order of appearance
    context: object = None      # the shape inference, for claims about this expression


class _Shaper:
    """First pass: the shape of every node, as dimension classes."""

    def __init__(self, shapes):
        self.dims, self.names, self.order, self.given = Dims(), {}, [], {}
        self.identities, self.ones = {}, {}
        self.max_power = MAX_MATRIX_POWER   # a claim's (the derivative's) may be one more
        if shapes is not None and not isinstance(shapes, dict):
            raise ClaimError(f"shapes: expected a dict of name -> (rows, cols), got "
                             f"{type(shapes).__name__}")
        for label, shape in (shapes or {}).items():
            self.given[label] = self._given(label, shape)

    def _given(self, label, shape):
        if not (isinstance(shape, tuple) and len(shape) == 2):
            raise ClaimError(f"shapes[{label!r}]: expected (rows, cols), got {shape!r}")
        out = []
        for size in shape:
            if isinstance(size, int) and not isinstance(size, bool) and size >= 1:
                out.append(ONE if size == 1 else self.dims.new(value=size))
            elif isinstance(size, str) and size.isidentifier():
                found = [k for k, v in self.dims.label.items() if v == size]
                out.append(found[0] if found else self.dims.new(label=size))
            else:
                raise ClaimError(f"shapes[{label!r}]: a size must be a positive integer "
                                 f"or a name, got {size!r}")
        return tuple(out)

    def shape(self, node):
        kind = node[0]
        if kind == "name" and node[1] == "I":      # the identity, square, any size
            d = self.dims.new()
            self.identities[node] = d
            return (d, d)
        if kind == "name":
            label = node[1]
            if label not in self.names:
                self.order.append(label)
                self.names[label] = self.given.get(label) or (
                    (self.dims.new(), ONE) if label[0].islower()
                    else (self.dims.new(), self.dims.new()))
            return self.names[label]
        if kind == "num":
            return (ONE, ONE)
        if kind == "neg":
            return self.shape(node[1])
        if kind == "T":
            r, c = self.shape(node[1])
            return (c, r)
        if kind in ("add", "sub", "had"):
            a, b = self.shape(node[1]), self.shape(node[2])
            if kind != "had" and self.scalar(a) != self.scalar(b):
                return b if self.scalar(a) else a     # a scalar s stands for s·1
            word = {"had": "Hadamard product", "add": "sum", "sub": "difference"}[kind]
            self._same(a, b, f"the {word} of a {self.text(a)} and a {self.text(b)}")
            return a
        if kind == "matmul":
            items = chain(node)
            shapes = [None if item in ONES else self.shape(item) for item in items]
            matrix = any(s is not None and not self.scalar(s) for s in shapes)
            for item, n in zip(items, range(len(items))):
                if item in ONES:    # a ones vector beside a matrix, else the number 1
                    d = self.dims.new() if matrix else ONE
                    self.ones[id(item)] = d
                    shapes[n] = (d, ONE) if item == ONES[0] else (ONE, d)
            product = shapes[0]
            for s in shapes[1:]:
                product = self.product(product, s)
            return product
        if kind == "times":
            return self.product(self.shape(node[1]), self.shape(node[2]))
        if kind == "div":
            a, b = self.shape(node[1]), self.shape(node[2])
            if self.scalar(b):
                return a
            if not self.scalar(a):       # ⊘: elementwise, the same shape
                self._same(a, b, f"the elementwise quotient of a {self.text(a)} by a "
                                 f"{self.text(b)}")
            return b
        if kind == "pow":
            return self.power(node)
        return self.shape_more(node, kind)

    def product(self, a, b):
        """The shape of a matrix product (a 1×1 factor multiplies as a scalar)."""
        if self.scalar(a) or self.scalar(b):
            if not (self.dims.is_one(a[1]) and self.dims.is_one(b[0])):
                return b if self.scalar(a) else a
        self.dims.union(a[1], b[0], f"cannot multiply a {self.text(a)} by a "
                                    f"{self.text(b)}: inner sizes differ")
        return (a[0], b[1])

    def shape_more(self, node, kind):
        """Norms, traces, determinants and elementwise functions: `shape`'s other half."""
        if kind == "norm":         # ‖v‖ (Frobenius for a matrix) = (‖v‖²)^{1/2}
            self.shape(node[1])
            return (ONE, ONE)
        if kind in ("tr", "det"):
            r, c = self.shape(node[1])
            word = "trace" if kind == "tr" else "determinant"
            self.dims.union(r, c, f"the {word} of a {self.text((r, c))}: it must be square")
            return (ONE, ONE)
        if kind in ("call", "epow"):      # elementwise: the shape of the argument
            return self.shape(node[3] if kind == "call" else node[1])
        raise ClaimError(f"{kind} is not allowed in a matrix expression")

    def power(self, node):
        base = node[1]
        if base[0] == "norm":
            self.shape(base[1])
            return (ONE, ONE)
        a = self.shape(base)
        if not self.scalar(a):
            if node[2] == 0:
                raise ClaimError("a matrix power needs a nonzero exponent (X^0 is I: write "
                                 "I), such as X^2 or X^{-1}")
            low, high = 1 - self.max_power, self.max_power    # inverses cost more
            if not low <= node[2] <= high:
                raise ClaimError(f"a matrix power {node[2]}: allowed from {low} to {high} "
                                 "(the check expands it entry by entry at 3×3 and larger, "
                                 "which for higher powers takes minutes)")
            word = "power" if node[2] > 0 else "inverse"
            self.dims.union(a[0], a[1], f"the {word} of a {self.text(a)}: it must be square")
        return a

    def scalar(self, shape):
        return self.dims.is_one(shape[0]) and self.dims.is_one(shape[1])

    def _same(self, a, b, what):
        self.dims.union(a[0], b[0], what + ": shapes differ")
        self.dims.union(a[1], b[1], what + ": shapes differ")

    def text(self, shape):
        r, c = (self.dims.find(x) for x in shape)
        if ONE in (r, c) and r != c:
            return "row vector" if r == ONE else "column vector"
        return "scalar" if r == c == ONE else "matrix"


def build_scalar(tree, wrt=None, shapes=None):
    """Build the scalar expression ``tree`` (its shapes inferred) as a `Scalar`."""
    shaper = _Shaper(shapes)
    root = shaper.shape(tree)
    if not shaper.scalar(root):
        size = _named(shaper, wrt)
        raise ClaimError(f"the expression is a {shaper.text(root)} of shape "
                         f"{size(root[0])}×{size(root[1])}, not a scalar: a derivative "
                         "d/dA needs a scalar (add a ᵀ, a trace or a product with another "
                         "vector)")
    unknown = [label for label in shaper.given if label not in shaper.names]
    if unknown:
        raise ClaimError(f"shapes: {', '.join(map(repr, unknown))} not in the expression; "
                         f"its names are {', '.join(shaper.order)}")
    if wrt is not None and wrt not in shaper.names:
        raise ClaimError(f"wrt: {wrt!r} does not occur in the expression; its names are "
                         f"{', '.join(shaper.order)}")
    size = _named(shaper, wrt)
    symbols = {label: MatrixSymbol(label, size(r), size(c))
               for label, (r, c) in shaper.names.items()}
    return Scalar(FreeBuilder(symbols, shaper, size).build(tree),
                  {k: v.shape for k, v in symbols.items()}, symbols, list(shaper.order),
                  (shaper, size))


def build_claim(scalar, tree, wrt=None):
    """A claim about ``scalar``'s derivative, built with the same names and sizes.

    Raises `ShapeMismatch` when the claim's own shapes do not fit, or when they would
    only fit by making two of the expression's sizes equal; `ClaimError` for a name
    the expression does not have.
    """
    shaper, size = scalar.context
    named = [n[1] for n in _nodes(tree) if n[0] == "name" and n[1] != "I"]
    extra = sorted({label for label in named if label not in shaper.names})
    if extra:
        raise ClaimError(f"the claim names {', '.join(extra)}, which the expression does "
                         f"not have; its names are {', '.join(scalar.order)}")
    roots = {shaper.dims.find(d) for dims in shaper.names.values() for d in dims} - {ONE}
    before = {d: size(d) for d in roots}
    shaper.max_power = MAX_MATRIX_POWER + 1     # d/dX tr(X^{-4}) has X^{-5}
    shape = shaper.shape(tree)
    if wrt is not None:   # sizes the claim leaves open (an identity I) are the target's
        for mine, target in zip(shape, shaper.names[wrt]):
            root = shaper.dims.find(mine)
            if root != ONE and root not in roots and shaper.dims.find(target) != ONE:
                shaper.dims.union(target, root, "the claim's identity")
    for node, d in shaper.identities.items():
        if node in _nodes(tree) and shaper.dims.find(d) not in roots:
            raise ClaimError("the size of I is not fixed by the claim; tie it to the "
                             "expression's names (as in A + I)", column=node[2])
    after = {}
    for d in before:
        after.setdefault(shaper.dims.find(d), []).append(d)
    merged = [group for group in after.values() if len(group) > 1]
    if merged:
        names = " = ".join(str(before[d]) for d in merged[0])
        raise ShapeMismatch(f"the claim's shapes fit only if {names}")
    return (FreeBuilder(scalar.symbols, shaper, size).build(tree),
            (size(shape[0]), size(shape[1])))


def _nodes(tree):
    """Every node of a tree."""
    out = [tree]
    for child in tree[1:]:
        if isinstance(child, tuple):
            out += _nodes(child)
    return out


def _named(shaper, wrt):
    """A function from dimension classes to SymPy sizes: integers where bound, names."""
    dims = shaper.dims
    taken = {label[0].lower() for label in shaper.order} | \
        {label[0].upper() for label in shaper.order} | set(dims.label.values())
    letters = [x for x in DIM_LETTERS if x not in taken and x.upper() not in taken]
    names = {}
    first = ([wrt] if wrt in shaper.names else []) + shaper.order
    for label in first:
        for d in shaper.names[label]:
            root = dims.find(d)
            if root == ONE or root in names or root in dims.value:
                continue
            if root in dims.label:
                names[root] = dims.label[root]
            else:
                names[root] = letters.pop(0) if letters else f"d{len(names) + 1}"

    def size(d):
        root = dims.find(d)
        if root == ONE:
            return Integer(1)
        if root in dims.value:     # a user's size: kept as a name above SMALL_SIZE
            value = dims.value[root]
            return Integer(value) if value <= SMALL_SIZE else \
                Symbol(str(value), integer=True, positive=True)
        if root not in names:
            names[root] = letters.pop(0) if letters else f"d{len(names) + 1}"
        return Symbol(names[root], integer=True, positive=True)
    return size
