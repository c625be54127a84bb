"""The op table: every row's claimed VJP checked alone against the VJP the engine
derives from the row's index forward, and the errors a wrong or missing claim raises."""
from dataclasses import replace

import pytest
from sympy import KroneckerDelta
from sympy.matrices.expressions import HadamardProduct, MatMul, Transpose
from sympy.matrices.expressions.diagonal import DiagMatrix

from derive import Network, backprop
from derive.engine import layers, vjp
from derive.engine.kinds import NORM_OF
from derive.engine.ops import BLOCKS, DENSE, OPS, Shapes, activation_op, block_ops
from derive.engine.vjp import OpError, check
from derive.ir.nodes import Act
from derive.spec import rules
from derive.vocab import i, k, s

SHAPES = [(bias, batch) for bias in DENSE for batch in (False, True)]
ROWS = [(name, bias, batch) for name in OPS for bias, batch in SHAPES
        if (not name.startswith("dense") or DENSE[bias] == name)
        and (name != "batch_norm" or batch)]   # batch norm normalizes over a batch


@pytest.mark.parametrize("name,bias,batch", ROWS)
def test_every_claimed_vjp_matches_the_derived_one(name, bias, batch):
    op = OPS[name]
    derived = check(op, Shapes(bias, batch, NORM_OF.get(name, "none")))
    assert set(derived) == set(op.inputs) == set(op.vjps)
    # every Kronecker delta is contracted, the normalizations' nested ones included
    assert not any(form.has(KroneckerDelta) for form in derived.values()), derived


def test_the_table_has_a_row_for_every_activation_and_loss():
    assert set(rules.ACTIVATIONS) <= set(OPS)
    assert {"loss:" + name for name in rules.LOSSES} <= set(OPS)
    assert {"dense", "dense_augmented", "dense_bias"} <= set(OPS)


def test_a_custom_activation_gets_a_checked_row():
    op = activation_op("custom:x/(1+exp(-x))")
    assert op.inputs == ("h",) and op.name not in OPS   # made on demand, not registered
    check(op, Shapes("none", True))
    assert vjp.checked("custom:x/(1+exp(-x))", "explicit", False)


def test_blocks_are_fixed_sequences_of_ops():
    assert BLOCKS["hidden"] == ("dense", "activation")
    ops = block_ops("output", "explicit", "softmax", "cce")
    assert [op.name for op in ops] == ["dense_bias", "softmax", "loss:cce"]


def _wrong_dense_W(sh, layer, G):
    return 2 * G * Transpose(sh.layer_input(layer))


def _wrong_sigmoid(sh, layer, G):   # σ instead of σ'
    return HadamardProduct(G, Act("sigmoid", sh.var("h", layer), 0))


def _wrong_softmax(sh, layer, G):   # diag(z) G, the z zᵀ term forgotten
    return MatMul(DiagMatrix(sh.var("z", layer)), G)


@pytest.mark.parametrize("name,port,claim,batch", [
    ("dense", "W", _wrong_dense_W, False), ("dense", "W", _wrong_dense_W, True),
    ("sigmoid", "h", _wrong_sigmoid, False), ("softmax", "h", _wrong_softmax, False)])
def test_a_wrong_claim_is_an_error_naming_the_op_and_the_input(name, port, claim, batch):
    row = OPS[name]
    wrong = replace(row, name=name + "_wrong", vjps={**row.vjps, port: claim})
    with pytest.raises(OpError, match=f"'{name}_wrong'.*'{port}'"):
        check(wrong, Shapes("none", batch))


def test_a_missing_vjp_is_an_error_naming_the_op_and_the_input():
    row = OPS["dense"]
    missing = replace(row, name="dense_half", vjps={"W": row.vjps["W"]})
    with pytest.raises(OpError, match="'dense_half'.*no VJP.*'z'"):
        check(missing, Shapes("none", False))


def test_a_claim_for_something_that_is_not_an_input_is_an_error():
    row = OPS["tanh"]
    extra = replace(row, name="tanh_extra", vjps={**row.vjps, "W": row.vjps["h"]})
    with pytest.raises(OpError, match="'tanh_extra'.*'W'"):
        check(extra, Shapes("none", False))


def test_backprop_checks_the_rows_it_uses(monkeypatch):
    row = OPS["sigmoid"]
    monkeypatch.setitem(OPS, "sigmoid", replace(row, vjps={"h": _wrong_sigmoid}))
    layers.templates.cache_clear()
    vjp.checked.cache_clear()
    try:
        with pytest.raises(OpError, match="'sigmoid'.*'h'"):
            backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce"))
    finally:
        monkeypatch.undo()
        layers.templates.cache_clear()
        vjp.checked.cache_clear()
    assert backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce")).certify()


def test_a_wrong_jacobian_claim_is_an_error_naming_the_op_and_the_input():
    def diagonal_only(sh, layer):
        return sh.comp(sh.var("z", layer), i, s) * KroneckerDelta(i, k)

    wrong = replace(OPS["softmax"], name="softmax_diag", jacobian=diagonal_only)
    with pytest.raises(OpError, match="'softmax_diag'.*Jacobian.*'h'"):
        check(wrong, Shapes("none", False))
