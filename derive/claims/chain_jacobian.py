"""Products of Jacobians in a chain step, read with the network's shapes (SPEC §3b).

A product that holds Jacobian factors ``dA/dB`` is read as the chain rule. Its
orientation comes from where the loss and the parameter stand: ``dJ/dz_L dz_L/dh_L …
dh_l/dW_l`` (the loss first, as the notes and seed 000 write it) is the numerator
layout, where ∂A/∂B (vectors) is the matrix of entries ∂A_i/∂B_j and dJ/dA a row;
``dh_l/dW_l … dz_L/dh_L dJ/dz_L`` (the loss last) is the denominator layout, where every
vector Jacobian is transposed and dJ/dA a column. The parameter's factor dh_l/dW_l (a
3-tensor) closes the chain: a row r before it gives ∂J/∂W_l = rᵀ z_{l-1}ᵀ, a column c
after it c z_{l-1}ᵀ. A chain that ends on a vector denotes that vector's gradient, as a
column (the engine's layout).

Every Jacobian becomes a claim tree the §3 grammar already builds (``diag``, ``W_l``,
``δ_l``, σ'), so the step is then checked as any claim:

>>> from derive import Network
>>> from derive.claims.chain_read import read_chain
>>> net = Network.uniform(depth="L", activation="sigmoid", loss="bce")
>>> tree = read_chain("dJ/dW_L = dJ/dh_L dh_L/dW_L")[0].tree
>>> Reading(net).plain(tree)
('matmul', ('T', ('T', ('var', 'delta', ('L', 0)))), ('T', ('var', 'z', ('L', -1))))
"""

from ..errors import ClaimError
from ..printing.claim_text import to_claim
from .grammar import parse
from .instances import concrete_backprop

TENSOR_KINDS = ("W", "b", "gamma", "beta")


class Misfit(Exception):
    """A Jacobian product that cannot be read as a chain (a verdict, not bad input):
    the factors are in an order no layout gives."""


def _diag(tree):
    return ("call", "diag", 0, tree)


def _ones_like(tree):
    """A column of ones with ``tree``'s shape (a scalar 1 spreads over a matrix)."""
    return ("add", ("num", 1), ("times", ("num", 0), tree))


def _shift(spec, by):
    return (spec[0], spec[1] + by)


def _var(kind, spec):
    return ("var", kind, spec)


class Reading:
    """Reads the Jacobian factors of chain steps for one network."""

    def __init__(self, net, derivation=None, vector_target=False, row=False):
        self.net = net
        self.derivation = derivation
        self.vector_target = vector_target   # a chain then stands for a vector
        self.row = row                       # written as a row (the numerator layout)

    # -- the network's structure, layer by layer ---------------------------------------
    def is_output(self, spec):
        net = self.net
        return spec == ("L", 0) or (not net.symbolic and spec[0] is None
                                    and spec[1] == net.depth)

    def is_residual(self, spec):
        net = self.net
        if not net.residual or self.is_output(spec):
            return False
        base, off = spec
        if base is None:
            return net.is_residual(off) if not net.symbolic else off >= 2
        if base == "L" and (not net.symbolic or off == -1):
            return net.is_residual(net.L + off)
        raise ClaimError("a residual layer's Jacobian at a layer of unknown position: "
                         "write the chain at a concrete depth")

    def weight(self, spec):
        return _var("Wbar" if self.net.bias == "augmented" else "W", spec)

    def inputs(self, spec):
        """z_{l-1} (or [z_{l-1}; 1] with the augmented bias) of layer ``spec``."""
        return _var("zaug" if self.net.bias == "augmented" else "z", _shift(spec, -1))

    def activation_jacobian(self, spec, arg_kind="h"):
        """∂(the activation's output)/∂(its input) at layer ``spec``."""
        out = self.net.activations[-1] if self.is_output(spec) else None
        if out == "softmax":
            z = _var("z", spec)
            return ("sub", _diag(z), ("matmul", z, ("T", z)))
        return _diag(("call", "sigma", 1, _var(arg_kind, spec)))

    def local(self, num, wrt):
        """The numerator-layout Jacobian ∂num/∂wrt of two layer vectors, as a tree."""
        (nk, ns), (wk, ws) = num[1:], wrt[1:]
        net, hidden = self.net, not self.is_output(ns)
        if num == wrt:
            return _diag(_ones_like(num))
        if nk == "h" and wk == "z" and ws == _shift(ns, -1):
            return self.weight(ns)
        if ns == ws and (nk, wk) in (("z", "h"), ("a", "h"), ("z", "hhat"), ("a", "hhat")):
            if wk == "h" and hidden and net.norm != "none":
                raise ClaimError("∂z_l/∂h_l through a normalization: write it through "
                                 "hhat_l (dz_l/dhhat_l) and the matrix form of the norm")
            jac = self.activation_jacobian(ns, wk)
            if nk == "z" and hidden and net.dropout:
                jac = ("matmul", _diag(_var("M", ns)), jac)
            return jac
        if nk == "z" and wk == "a" and ns == ws and hidden:
            return _diag(_var("M", ns)) if net.dropout else _diag(_ones_like(num))
        if nk == "z" and wk == "z" and ws == _shift(ns, -1):
            through = ("matmul", self.local(num, _var("h", ns)), self.weight(ns))
            if self.is_residual(ns):
                return ("add", _diag(_ones_like(num)), through)
            return through
        raise ClaimError(f"no Jacobian d{_name(num)}/d{_name(wrt)} in this network: a "
                         "chain links neighbours (dz_l/dh_l, dh_l/dz_{l-1}, …)")

    def gradient(self, wrt):
        """∂J/∂wrt as a column (or W's shape), in the names the grammar has."""
        kind, spec = wrt[1:]
        if kind == "h":
            return _var("delta", spec)
        if kind in ("W", "b"):
            delta = _var("delta", spec)
            return delta if kind == "b" else ("matmul", delta, ("T", self.inputs(spec)))
        if kind == "z":
            return self.dJdz(spec)
        if kind == "a" and self.net.kinds and not self.is_output(spec):
            dz = self.dJdz(spec)
            return ("had", dz, _var("M", spec)) if self.net.dropout else dz
        if kind == "hhat" and self.net.norm != "none" and not self.is_output(spec):
            return ("cot", kind, spec)          # the derivation's named cotangent ∂J/∂ĥ_l
        raise ClaimError(f"no reading of dJ/d{_name(wrt)} in a chain: use dJ/dz_l, "
                         "dJ/dh_l (δ_l) or dJ/dW_l")

    def dJdz(self, spec):
        if self.is_output(spec):
            return self.loss_tree()
        term = ("matmul", ("T", self.weight(_shift(spec, 1))), _var("delta", _shift(spec, 1)))
        if self.is_residual(_shift(spec, 1)):
            return ("add", term, self.dJdz(_shift(spec, 1)))
        return term

    def loss_tree(self):
        """∂J/∂z_L from the engine, printed in the claim syntax and read back."""
        if self.derivation is None:
            self.derivation = concrete_backprop(self.net)
        return parse(to_claim(self.derivation.dJdz("L" if self.net.symbolic else
                                                   self.net.depth)))

    # -- products ------------------------------------------------------------------------
    def plain(self, tree):
        """``tree`` with every Jacobian product read as the matrices it stands for."""
        if not isinstance(tree, tuple) or tree[0] in ("var", "num", "loss"):
            return tree
        if tree[0] == "jac" or (tree[0] == "matmul" and _has_jac(tree)):
            return self.chain(_factors(tree))
        if tree[0] == "call":
            return tree[:3] + (self.plain(tree[3]),)
        return (tree[0],) + tuple(self.plain(t) for t in tree[1:])

    def chain(self, factors):
        jacs = [f for f in factors if f[0] == "jac"]
        tensors = [k for k, f in enumerate(factors) if f[0] == "jac" and self.is_tensor(f)]
        if not tensors and all(f[1][0] == "loss" for f in jacs):
            return self.named(factors)      # dJ/dA alone: a gradient, not a chain
        if self.net.batch:
            raise ClaimError("Jacobian factors are read for one sample: write a batch "
                             "network's chain in matrix form")
        first, last = factors[0], factors[-1]
        numerator = not ((last[0] == "jac" and last[1][0] == "loss") or
                         (first[0] == "jac" and self.is_tensor(first)))
        end = len(factors) - 1 if numerator else 0
        if any(k != end for k in tensors):
            raise Misfit(f"d{_name(factors[tensors[0]][1])}/d{_name(factors[tensors[0]][2])}"
                         " (a 3-tensor) must close the chain: the factors are out of order")
        rest = [self.factor(f, numerator) for k, f in enumerate(factors) if k not in tensors]
        if not rest:
            raise Misfit("a Jacobian with respect to a parameter needs the chain before it")
        product = rest[0]
        for f in rest[1:]:
            product = ("matmul", product, f)
        if tensors:
            return self.contract(factors[end], product, numerator)
        if self.vector_target and any(f[1][0] == "loss" for f in jacs) and numerator != self.row:
            return ("T", product)   # the chain's row (or column) in the step's layout
        return product

    def named(self, factors):
        """A product whose Jacobians are all dJ/dA: each is the gradient ∂J/∂A (a column,
        a row in the numerator layout; W's shape for a matrix)."""
        out = []
        for f in factors:
            if f[0] != "jac":
                out.append(self.plain(f))
                continue
            grad = self.gradient(f[2])
            out.append(("T", grad) if self.row and f[2][1] not in TENSOR_KINDS else grad)
        product = out[0]
        for f in out[1:]:
            product = ("matmul", product, f)
        return product

    def is_tensor(self, jac):
        return jac[2][1] in TENSOR_KINDS and jac[1][0] != "loss"

    def factor(self, f, numerator):
        if f[0] != "jac":
            return self.plain(f)
        num, wrt = f[1], f[2]
        if num[0] == "loss":
            column = self.gradient(wrt)
            return ("T", column) if numerator and wrt[1] not in TENSOR_KINDS else column
        if self.is_tensor(f):
            raise Misfit("a Jacobian with respect to a parameter needs the chain before it")
        jac = self.local(num, wrt)
        return jac if numerator else ("T", jac)

    def contract(self, jac, product, numerator):
        """The chain closed by ∂h_l/∂W_l (or ∂h_l/∂b_l): a row r gives rᵀ z_{l-1}ᵀ."""
        num, wrt = jac[1], jac[2]
        if num[1] != "h" or num[2] != wrt[2] or wrt[1] not in ("W", "b"):
            raise ClaimError(f"no reading of d{_name(num)}/d{_name(wrt)}: a chain reaches "
                             "W_l and b_l through h_l (dh_l/dW_l)")
        column = ("T", product) if numerator else product
        return column if wrt[1] == "b" else ("matmul", column, ("T", self.inputs(wrt[2])))


def _has_jac(tree):
    return any(f[0] == "jac" for f in _factors(tree))


def _factors(tree):
    """The factors of a juxtaposed product (left-associated), in order."""
    if tree[0] != "matmul":
        return [tree]
    return _factors(tree[1]) + [tree[2]]


def _name(q):
    if q[0] == "loss":
        return q[1]
    base, off = q[2]
    layer = str(off) if base is None else base + (f"{off:+d}" if off else "")
    return f"{q[1]}_{layer if len(layer) == 1 else '{' + layer + '}'}"
