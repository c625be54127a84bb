"""Lifting a derived index VJP to matrix form: each rule alone on small expressions, then
every row of the op table at every network shape, where the lifted matrix read back
componentwise must agree with the index form it came from."""
import pytest
from sympy import Indexed, IndexedBase, OneMatrix, Sum, exp, symbols
from sympy.matrices.expressions import HadamardProduct, MatMul, Transpose

from derive.calculus.kronecker import LiftError
from derive.calculus.lifting import lift_entry
from derive.engine.conv import CONV_OPS
from derive.engine.conv2d import CONV2D_OPS
from derive.engine.ops import OPS, Shapes
from derive.engine.proofs import recorded_keys
from derive.engine.vjp import _agree, derive_vjp, entry, lifted_vjp, op_layer, port_indices, port_var
from derive.ir.conv import Inside
from derive.ir.nodes import Var

k, s, p, q, n, m, c = symbols("k s p q n m c", integer=True, positive=True)
H, G = Var("h", 1, n, m), Var("G", 1, n, m)
g = Var("gamma", 1, n, 1)
h_, G_, g_ = IndexedBase(H), IndexedBase(G), IndexedBase(g)


def test_a_sum_over_the_features_of_a_sample_is_a_ones_row_product():
    lifted = lift_entry(Sum(h_[p, s], (p, 1, n)), k, s, (n, m))
    assert lifted == MatMul(OneMatrix(n, n), H)     # 𝟏 (𝟏ᵀ h): SymPy writes 𝟏𝟏ᵀ as one


def test_a_sum_over_the_samples_of_a_feature_is_a_ones_column_product():
    lifted = lift_entry(Sum(G_[k, p], (p, 1, m)), k, c, (n, 1))
    assert lifted == MatMul(G, OneMatrix(m, 1))


def test_a_sum_over_a_shared_index_is_a_matrix_product_and_a_swapped_one_a_transpose():
    W = Var("W", 2, c, n)
    lifted = lift_entry(Sum(IndexedBase(W)[q, k] * G_[q, s], (q, 1, c)), k, s, (n, m))
    assert lifted == MatMul(Transpose(W), G)


def test_a_column_times_a_row_is_an_outer_product():
    u, v = Var("u", 1, n, 1), Var("v", 1, c, 1)
    lifted = lift_entry(IndexedBase(u)[k] * IndexedBase(v)[q], k, q, (n, c))
    assert lifted == MatMul(u, Transpose(v))


def test_entrywise_factors_are_a_hadamard_product_with_the_column_spread():
    lifted = lift_entry(g_[k] * G_[k, s], k, s, (n, m))
    assert lifted == HadamardProduct(MatMul(g, OneMatrix(1, m)), G)


def test_a_factor_on_the_summed_and_both_free_indices_does_not_lift():
    with pytest.raises(LiftError):
        lift_entry(Sum(exp(h_[k, p] * G_[p, s]), (p, 1, n)), k, s, (n, m))


#: every row at every shape it is used with (the keys its proof is recorded under)
#: the convolution's rows: their VJPs read shifted windows (t + j − 1, p(u − 1) + j) and
#: kernels (three indices), which the lifting rules do not; the causal softmax's reads the
#: mask's indicator [t ≤ s] (an `Inside` too). Their matrix forms are their claims (corr,
#: flip, …), checked componentwise against the derived VJPs
LIMITED = CONV_OPS + CONV2D_OPS + ("causal_softmax",)
WINDOWED = [key for key in recorded_keys() if key[0] in LIMITED]
ROWS = [key for key in recorded_keys() if key[0] not in LIMITED]


@pytest.mark.parametrize("name,bias,batch,norm", WINDOWED)
def test_a_windowed_vjp_is_refused_by_the_lifting_rules_not_mislifted(name, bias, batch, norm):
    """A VJP with a window's limits (`Inside`) or a kernel's three indices is refused;
    the others (the convolution's bias, G 𝟏) lift and read back."""
    op, sh = OPS[name], Shapes(bias, batch, norm)
    for port in op.inputs:
        derived = derive_vjp(op, port, sh)
        var = port_var(sh, op, port, op_layer(op))
        if derived.has(Inside) or len(port_indices(sh, var)) >= 3 or \
                any(len(e.indices) > 2 for e in derived.atoms(Indexed)):   # an image's
            with pytest.raises(LiftError):
                lifted_vjp(op, port, sh, derived=derived)
        else:
            lifted = lifted_vjp(op, port, sh, derived=derived)
            assert _agree(derived, entry(lifted, *port_indices(sh, var))), (port, lifted)


@pytest.mark.parametrize("name,bias,batch,norm", ROWS)
def test_every_derived_vjp_lifts_and_reads_back(name, bias, batch, norm):
    op = OPS[name]
    sh = Shapes(bias, batch, norm)
    for port in op.inputs:
        derived = derive_vjp(op, port, sh)
        lifted = lifted_vjp(op, port, sh, derived=derived)
        var = port_var(sh, op, port, op_layer(op))
        # an MLP's skip z_{l-1} gets a cotangent of layer l's rows (a residual needs equal
        # widths); a transformer's token_add adds quantities of one shape
        residual_skip = port == "skip" and op.ports["skip"][1] != 0
        assert lifted.shape == (var.shape if not residual_skip else
                                (sh.n(op_layer(op)), var.shape[1]))
        assert _agree(derived, entry(lifted, *port_indices(sh, var))), (port, lifted)


def test_the_dense_rows_lift_to_the_notes_forms():
    """The forms every set of notes writes: ∂J/∂W = G zᵀ, ∂J/∂z = Wᵀ G, ∂J/∂b = G 1."""
    sh, op = Shapes("explicit", True), OPS["dense_bias"]
    layer = op_layer(op)
    G = Var("G", layer, sh.n(layer), sh.m)
    W, z = sh.var("W", layer), sh.var("z", layer - 1)
    assert lifted_vjp(op, "W", sh) == MatMul(G, Transpose(z))
    assert lifted_vjp(op, "x", sh) == MatMul(Transpose(W), G)
    assert lifted_vjp(op, "b", sh) == MatMul(G, OneMatrix(sh.m, 1))
