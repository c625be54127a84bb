"""A pre-norm transformer (SPEC §1c `Network.transformer`), validated, as blocks of calls.

Columns are tokens: Z_0 = X ∈ ℝ^{d×T}. Block l (1 … B) computes

    X̂_l = standardize(Z_{l-1}),  X_l = γ_1 𝟏ᵀ ⊙ X̂_l + β_1 𝟏ᵀ                layer norm per token
    per head h: Q = W_Q X_l + b_Q 𝟏ᵀ, K = W_K X_l + b_K 𝟏ᵀ, V = W_V X_l + b_V 𝟏ᵀ,
                S = Kᵀ Q / √d_k, A = softmax(S) per column (causal: keys t ≤ query s),
                H = V A, H̃ = W_O,h H (+ b_O 𝟏ᵀ on the first head)
    O_l = Σ_h H̃_h (running sums Õ),  U_l = Z_{l-1} + O_l
    Û_l = standardize(U_l), Ū_l = γ_2 𝟏ᵀ ⊙ Û_l + β_2 𝟏ᵀ
    P_l = W_1 Ū_l + b_1 𝟏ᵀ, R_l = σ(P_l), M_l = W_2 R_l + b_2 𝟏ᵀ,  Z_l = U_l + M_l

and the head (layer B + 1): H_y = W_y Z_B + b_y 𝟏ᵀ, Ŷ = σ_out(H_y) (softmax: per token),
J = the §1 loss of every token averaged over the T tokens. ``bias="none"`` drops every
b (not γ, β). W_O = [W_O,1 … W_O,heads] is stored per head (d × d_k each).

The layer slot of a quantity is its block l; a head's quantities sit at the head slot
u = (l − 1)·heads + h (u = l for one head); the output head at the depth B + 1.

Sizes are symbolic names ("d", "d_k", "T", "d_ff", "d_y") or integers; the derivation
is at symbolic sizes either way, and a symbolic size takes a tiny value where numbers
are needed (`TINY`: certify, values).

>>> net = TransformerNetwork(blocks=1, heads=1, width=2, tokens=2)
>>> [call.op for call in net.blocks[0]][:6]
['standardize', 'token_affine', 'token_dense', 'token_dense', 'token_dense', 'scores']
>>> net.depth, net.sizes()
(2, (2, 2, 2, 8, 2))
"""
from dataclasses import dataclass

from sympy import Integer, Rational

from ..errors import SpecError, shown
from ..ir.calls import OpCall
from ..ir.quantities import Q
from ..vocab import EPSILON, KEY_WIDTH, MLP_WIDTH, MODEL_WIDTH, OUT_WIDTH, TOKENS
from . import rules

MAX_SIZE = 4096
MAX_BLOCKS, MAX_HEADS = 64, 64
#: the size fields, their symbolic names and symbols, and the tiny value a symbolic one takes
SIZE_FIELDS = (("width", "d", MODEL_WIDTH), ("key_width", "d_k", KEY_WIDTH),
               ("tokens", "T", TOKENS), ("mlp_width", "d_ff", MLP_WIDTH),
               ("outputs", "d_y", OUT_WIDTH))
TINY = {"width": 2, "tokens": 2, "mlp_width": 2, "outputs": 2}
BIASES = ("explicit", "none")
#: the layer norm's ε, PyTorch's default
EPS = Rational(1, 10 ** 5)


def _count(value, what, most):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise SpecError(f"{what} must be an integer from 1 to {most}, got {shown(value)}")
    return value


@dataclass(frozen=True)
class TransformerNetwork:
    """A validated pre-norm transformer (module docstring)."""

    blocks_count: int = 1
    heads: int = 1
    width: object = "d"
    key_width: object = None
    tokens: object = "T"
    causal: bool = False
    mlp_activation: str = "relu"
    head: str = "identity"
    loss: str = "mse"
    mlp_width: object = None
    outputs: object = None
    bias: str = "explicit"

    arch = "transformer"    # what documents, claims and the export name when they refuse it
    batch = False
    norm = "none"
    dropout = False
    weight_decay = False

    def __init__(self, blocks=1, heads=1, width="d", key_width=None, tokens="T", causal=False,
                 mlp_activation="relu", head="identity", loss="mse", mlp_width=None,
                 outputs=None, bias="explicit"):
        values = dict(blocks_count=_count(blocks, "blocks", MAX_BLOCKS),
                      heads=_count(heads, "heads", MAX_HEADS), causal=causal,
                      mlp_activation=mlp_activation, head=head, loss=loss, bias=bias)
        values.update(_sizes(width, key_width, tokens, mlp_width, outputs, heads))
        for name, value in values.items():
            object.__setattr__(self, name, value)
        self._check()

    def _check(self):
        if not isinstance(self.causal, bool):
            raise SpecError(f"causal must be True or False, got {shown(self.causal)}")
        if self.bias not in BIASES:
            raise SpecError(f"bias must be one of {', '.join(BIASES)}, got {shown(self.bias)}")
        if not rules.activation(self.mlp_activation).elementwise:
            raise SpecError(f"mlp_activation: {self.mlp_activation} is not elementwise; the "
                            "MLP takes an elementwise activation")
        rules.check_output(self.head, self.loss)

    @property
    def symbolic(self):
        """Whether a size is a symbolic name (then numbers use `TINY`; no export)."""
        return any(not isinstance(getattr(self, f), int) for f, _, _ in SIZE_FIELDS)

    def describe(self):
        """One line: the options and the sizes."""
        sizes = ", ".join(f"{name} {getattr(self, f)}" for f, name, _ in SIZE_FIELDS)
        return (f"transformer; {self.blocks_count} block(s), {self.heads} head(s)"
                f"{', causal' if self.causal else ''}; {sizes}; MLP {self.mlp_activation}; "
                f"head {self.head}; loss {self.loss}")

    @property
    def depth(self):
        """The layer of the output head and the loss: B + 1."""
        return self.blocks_count + 1

    L = depth

    def sizes(self):
        """(d, d_k, T, d_ff, d_y) as integers, a symbolic size at its tiny value."""
        tiny = dict(TINY, key_width=max(1, TINY["width"] // self.heads))
        return tuple(value if isinstance(value, int) else tiny[name]
                     for name, value in ((f, getattr(self, f)) for f, _, _ in SIZE_FIELDS))

    def size_values(self):
        """{size symbol: Integer} (`sizes`), and the layer norm's ε: `EPS`."""
        out = {symbol: Integer(v) for (_, _, symbol), v in zip(SIZE_FIELDS, self.sizes())}
        return out | {EPSILON: EPS}

    def pre_activation(self, layer):
        """δ_l: the cotangent of the residual stream Z_l of block l, of H_y at the head."""
        return Q("Hy", layer) if layer == self.depth else Q("Zt", layer)

    def head_slot(self, layer, head):
        """The layer slot of head ``head`` (1 …) of block ``layer``."""
        return (layer - 1) * self.heads + head

    @property
    def blocks(self):
        """One tuple of calls per block, then the output head's."""
        out = tuple(block_calls(self, layer) for layer in range(1, self.blocks_count + 1))
        return out + (head_calls(self),)


def _sizes(width, key_width, tokens, mlp_width, outputs, heads):
    """The size fields: an integer, or the field's symbolic name; key_width defaults to
    d / heads, mlp_width to 4d, outputs to d."""
    given = {"width": width, "key_width": key_width, "tokens": tokens,
             "mlp_width": mlp_width, "outputs": outputs}
    out = {}
    for name, symbolic, _ in SIZE_FIELDS:
        value = given[name]
        if value is None:
            value = _default(name, out["width"], heads)
        if value != symbolic:
            _count(value, f"{name} (an integer or {shown(symbolic)})", MAX_SIZE)
        out[name] = value
    return out


def _default(name, width, heads):
    if not isinstance(width, int):
        return dict((f, s) for f, s, _ in SIZE_FIELDS)[name]
    if name == "key_width":
        if width % heads:
            raise SpecError(f"width {width} is not divisible by heads {heads}; give key_width")
        return width // heads
    return 4 * width if name == "mlp_width" else width


def _dense(net, W, x, b, out):
    """Y = W x + b 𝟏ᵀ, or W x without biases."""
    if net.bias == "none":
        return OpCall("token_linear", {"W": W, "x": x}, out)
    return OpCall("token_dense", {"W": W, "x": x, "b": b}, out)


def _norm(x, gamma, beta, standardized, out):
    return (OpCall("standardize", {"x": x}, standardized),
            OpCall("token_affine", {"x": standardized, "gamma": gamma, "beta": beta}, out))


def head_of(net, l, h):
    """The calls of head h of block l, reading X_l; its projection H̃ at the head slot."""
    u, x = net.head_slot(l, h), Q("Xn", l)
    calls = [_dense(net, Q("W_" + p, u), x, Q("b_" + p, u), Q(p + "a", u)) for p in "QKV"]
    calls += [OpCall("scores", {"k": Q("Ka", u), "q": Q("Qa", u)}, Q("Sa", u)),
              OpCall("causal_softmax" if net.causal else "column_softmax", {"x": Q("Sa", u)},
                     Q("Aa", u)),
              OpCall("attend", {"v": Q("Va", u), "a": Q("Aa", u)}, Q("Ha", u))]
    if h == 1:   # the first head's projection carries the output bias b_O
        calls.append(_dense(net, Q("W_O", u), Q("Ha", u), Q("b_O", l), Q("Pa", u)))
    else:
        calls.append(OpCall("token_linear", {"W": Q("W_O", u), "x": Q("Ha", u)}, Q("Pa", u)))
    return calls


def block_calls(net, l):
    """Block l: layer norm, the heads and their sum, the residual add, layer norm, the
    MLP, the residual add (module docstring)."""
    calls = list(_norm(Q("Zt", l - 1), Q("gamma_1", l), Q("beta_1", l), Q("Xs", l), Q("Xn", l)))
    total = None
    for h in range(1, net.heads + 1):
        calls += head_of(net, l, h)
        u = net.head_slot(l, h)
        if total is not None:
            calls.append(OpCall("token_add", {"x": Q("Pa", u), "skip": total}, Q("Oa", u)))
        total = Q("Pa", u) if total is None else Q("Oa", u)
    calls.append(OpCall("token_add", {"x": total, "skip": Q("Zt", l - 1)}, Q("Ut", l)))
    calls += _norm(Q("Ut", l), Q("gamma_2", l), Q("beta_2", l), Q("Us", l), Q("Un", l))
    calls += [_dense(net, Q("W_1", l), Q("Un", l), Q("b_1", l), Q("Pm", l)),
              OpCall(net.mlp_activation, {"x": Q("Pm", l)}, Q("Rm", l)),
              _dense(net, Q("W_2", l), Q("Rm", l), Q("b_2", l), Q("Mm", l)),
              OpCall("token_add", {"x": Q("Mm", l), "skip": Q("Ut", l)}, Q("Zt", l))]
    return tuple(calls)


def head_calls(net):
    """The output head: H_y = W_y Z_B + b_y 𝟏ᵀ, Ŷ = σ_out(H_y), J averaged over tokens."""
    L = net.depth
    out = "column_softmax" if net.head == "softmax" else net.head
    return (_dense(net, Q("W_y", L), Q("Zt", L - 1), Q("b_y", L), Q("Hy", L)),
            OpCall(out, {"x": Q("Hy", L)}, Q("Yh", L)),
            OpCall("token_loss:" + net.loss, {"x": Q("Yh", L), "t": Q("Yt", L)}, Q("J", L)))

