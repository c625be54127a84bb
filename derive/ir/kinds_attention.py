"""The quantity rows of a transformer (SPEC §1c, `Network.transformer`): part of the
quantity table (`derive.ir.quantities` reads `ATTENTION_ROWS`)."""
from ..vocab import KEY_WIDTH, MLP_WIDTH, MODEL_WIDTH, OUT_WIDTH, TOKENS
from .kind import Kind


def _fixed(shape):                 # a transformer's: the same sizes at every layer
    return lambda sizes, layer: shape


#: a transformer's rows
ATTENTION_ROWS = (
    # a transformer (SPEC §1c, derive.spec.transformer): columns are tokens, fixed sizes
    # d, d_k, T, d_ff, d_y (derive.ir.attention). The layer slot is the block l for the
    # block's quantities, the head slot u = (l − 1)·heads + h for a head's (u = l with one
    # head), and the depth for the output head. Per block: Z_l (Z_0 = X), LN_1's standardized
    # Xs_l and output Xn_l, U_l = Z_{l-1} + the heads' sum, LN_2's Us_l and Un_l,
    # the MLP's P_l = W_1 Un_l + b_1, R_l = σ(P_l) and M_l = W_2 R_l + b_2; per head: Q, K,
    # V, the scores S, the weights A, the head H = V A, its projection Pa = W_O H and the
    # running sum Oa of the heads' projections; the output head Hy, Yh and target Yt.
    Kind("W_Q", _fixed((KEY_WIDTH, MODEL_WIDTH)), "trained", "token", letter=r"W_Q", claim="W_Q",
         text="W_Q", numpy="WQ", indices="entries", bold=False),
    Kind("W_K", _fixed((KEY_WIDTH, MODEL_WIDTH)), "trained", "token", letter=r"W_K", claim="W_K",
         text="W_K", numpy="WK", indices="entries", bold=False),
    Kind("W_V", _fixed((KEY_WIDTH, MODEL_WIDTH)), "trained", "token", letter=r"W_V", claim="W_V",
         text="W_V", numpy="WV", indices="entries", bold=False),
    Kind("W_O", _fixed((MODEL_WIDTH, KEY_WIDTH)), "trained", "token", letter=r"W_O", claim="W_O",
         text="W_O", numpy="WO", indices="entries", bold=False),
    Kind("b_Q", _fixed((KEY_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_Q", claim="b_Q",
         text="b_Q", numpy="bQ", indices="column", bold=False),
    Kind("b_K", _fixed((KEY_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_K", claim="b_K",
         text="b_K", numpy="bK", indices="column", bold=False),
    Kind("b_V", _fixed((KEY_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_V", claim="b_V",
         text="b_V", numpy="bV", indices="column", bold=False),
    Kind("b_O", _fixed((MODEL_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_O", claim="b_O",
         text="b_O", numpy="bO", indices="column", bold=False),
    Kind("gamma_1", _fixed((MODEL_WIDTH, 1)), "trained", "token", letter=r"\boldsymbol{\gamma}_1", claim="gamma_1",
         text="γ_1", numpy="gamma1", indices="column", bold=False),
    Kind("beta_1", _fixed((MODEL_WIDTH, 1)), "trained", "token", letter=r"\boldsymbol{\beta}_1", claim="beta_1",
         text="β_1", numpy="beta1", indices="column", bold=False),
    Kind("gamma_2", _fixed((MODEL_WIDTH, 1)), "trained", "token", letter=r"\boldsymbol{\gamma}_2", claim="gamma_2",
         text="γ_2", numpy="gamma2", indices="column", bold=False),
    Kind("beta_2", _fixed((MODEL_WIDTH, 1)), "trained", "token", letter=r"\boldsymbol{\beta}_2", claim="beta_2",
         text="β_2", numpy="beta2", indices="column", bold=False),
    Kind("W_1", _fixed((MLP_WIDTH, MODEL_WIDTH)), "trained", "token", letter=r"W_1", claim="W_1",
         text="W_1", numpy="W1", indices="entries", bold=False),
    Kind("b_1", _fixed((MLP_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_1", claim="b_1",
         text="b_1", numpy="b1", indices="column", bold=False),
    Kind("W_2", _fixed((MODEL_WIDTH, MLP_WIDTH)), "trained", "token", letter=r"W_2", claim="W_2",
         text="W_2", numpy="W2", indices="entries", bold=False),
    Kind("b_2", _fixed((MODEL_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_2", claim="b_2",
         text="b_2", numpy="b2", indices="column", bold=False),
    Kind("W_y", _fixed((OUT_WIDTH, MODEL_WIDTH)), "trained", "token", letter=r"W_y", claim="W_y",
         text="W_y", numpy="Wy", indices="entries", bold=False),
    Kind("b_y", _fixed((OUT_WIDTH, 1)), "trained", "token", letter=r"\mathbf{b}_y", claim="b_y",
         text="b_y", numpy="by", indices="column", bold=False),
    Kind("Zt", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"Z", claim="Z",
         text="Z", numpy="Zt", indices="grid", bold=False),
    Kind("Xs", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"\hat{X}", claim="Xhat",
         text="Xhat", numpy="Xs", indices="grid", bold=False),
    Kind("Xn", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"X", claim="X",
         text="X", numpy="Xn", indices="grid", bold=False),
    Kind("Ut", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"U", claim="U",
         text="U", numpy="Ut", indices="grid", bold=False),
    Kind("Us", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"\hat{U}", claim="Uhat",
         text="Uhat", numpy="Us", indices="grid", bold=False),
    Kind("Un", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"\bar{U}", claim="Ubar",
         text="Ubar", numpy="Un", indices="grid", bold=False),
    Kind("Pm", _fixed((MLP_WIDTH, TOKENS)), "computed", "token", letter=r"P", claim="P",
         text="P", numpy="Pm", indices="grid", bold=False),
    Kind("Rm", _fixed((MLP_WIDTH, TOKENS)), "computed", "token", letter=r"R", claim="R",
         text="R", numpy="Rm", indices="grid", bold=False),
    Kind("Mm", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"M", claim="M",
         text="M", numpy="Mm", indices="grid", bold=False),
    Kind("Qa", _fixed((KEY_WIDTH, TOKENS)), "computed", "token", letter=r"Q", claim="Q",
         text="Q", numpy="Qa", indices="grid", bold=False),
    Kind("Ka", _fixed((KEY_WIDTH, TOKENS)), "computed", "token", letter=r"K", claim="K",
         text="K", numpy="Ka", indices="grid", bold=False),
    Kind("Va", _fixed((KEY_WIDTH, TOKENS)), "computed", "token", letter=r"V", claim="V",
         text="V", numpy="Va", indices="grid", bold=False),
    Kind("Sa", _fixed((TOKENS, TOKENS)), "computed", "token", letter=r"S", claim="S",
         text="S", numpy="Sa", indices="grid", bold=False),
    Kind("Aa", _fixed((TOKENS, TOKENS)), "computed", "token", letter=r"A", claim="A",
         text="A", numpy="Aa", indices="grid", bold=False),
    Kind("Ha", _fixed((KEY_WIDTH, TOKENS)), "computed", "token", letter=r"H", claim="H",
         text="H", numpy="Ha", indices="grid", bold=False),
    Kind("Pa", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"\tilde{H}", claim="Htilde",
         text="Htilde", numpy="Pa", indices="grid", bold=False),
    Kind("Oa", _fixed((MODEL_WIDTH, TOKENS)), "computed", "token", letter=r"\tilde{O}", claim="Otilde",
         text="Otilde", numpy="Oa", indices="grid", bold=False),
    Kind("Hy", _fixed((OUT_WIDTH, TOKENS)), "computed", "token", letter=r"H_y", claim="H_y",
         text="H_y", numpy="Hy", indices="grid", bold=False),
    Kind("Yh", _fixed((OUT_WIDTH, TOKENS)), "computed", "token", letter=r"\hat{Y}", claim="Yhat",
         text="Yhat", numpy="Yh", indices="grid", bold=False),
    Kind("Yt", _fixed((OUT_WIDTH, TOKENS)), "input", "token", letter=r"Y", claim="Y",
         text="Y", numpy="Yt", indices="grid", bold=False),
)
