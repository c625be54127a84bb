"""Union-find over the dimensions of a free expression's names (`derive.claims.free_build`
infers shapes with it): each product, sum, Hadamard product, trace, determinant and
power ties two dimension classes together, and a class may be bound to a concrete size
or a user's name. Tying two different sizes, or 1 to a dimension that is not 1, is a
`ShapeMismatch`.

>>> d = Dims()
>>> a, b = d.new(), d.new(value=3)
>>> d.union(a, b, "a sum")
>>> d.value[d.find(a)]
3
"""
from .shapes import ShapeMismatch

ONE = "one"                     # the literal dimension 1


class Dims:
    """Union-find over dimension classes; a class may be bound to a concrete size."""

    def __init__(self):
        self.parent, self.value, self.label = {}, {}, {}

    def new(self, value=None, label=None):
        k = len(self.parent)
        self.parent[k] = k
        if value is not None:
            self.value[k] = value
        if label is not None:
            self.label[k] = label
        return k

    def find(self, a):
        if a == ONE:
            return ONE
        while self.parent[a] != a:
            a = self.parent[a]
        return a

    def is_one(self, a):
        a = self.find(a)
        return a == ONE or self.value.get(a) == 1

    def union(self, a, b, what):
        a, b = self.find(a), self.find(b)
        if a == b:
            return
        if ONE in (a, b):
            other = b if a == ONE else a
            if self.value.get(other) == 1:
                return
            raise ShapeMismatch(what)
        va, vb = self.value.get(a), self.value.get(b)
        if va is not None and vb is not None and va != vb:
            raise ShapeMismatch(what)
        la, lb = self.label.get(a), self.label.get(b)
        if la is not None and lb is not None and la != lb:
            raise ShapeMismatch(what)
        if b < a:       # the older class stays the root: its name does not change
            a, b, va, vb, la, lb = b, a, vb, va, lb, la
        self.parent[b] = a
        if va is None and vb is not None:
            self.value[a] = vb
        if la is None and lb is not None:
            self.label[a] = lb
