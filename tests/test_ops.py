"""The op table: every row's claimed VJP checked alone against the VJP the engine
derives from the row's index forward, and the errors a wrong or missing claim raises."""
from dataclasses import replace

import pytest
from sympy import KroneckerDelta
from sympy.matrices.expressions import HadamardProduct, MatMul, Transpose
from sympy.matrices.expressions.diagonal import DiagMatrix

from derive import Network, backprop
from derive.engine import blocks, proofs
from derive.engine.ops import OPS, Shapes, activation_op
from derive.engine.proof_record import RECORD
from derive.engine.proofs import proof_key, proven, recorded_keys, row_hash
from derive.engine.vjp import OpError, check
from derive.ir.nodes import Act
from derive.ir.quantities import Q
from derive.spec import rules
from derive.vocab import i, k, s


@pytest.mark.parametrize("key", recorded_keys(), ids=lambda key: "-".join(map(str, key)))
def test_every_claimed_vjp_matches_the_derived_one_and_its_proof_is_recorded(key):
    """Re-proves every row at every network shape a network can ask for, and holds the
    shipped record to it: a row changed without its record fails here (rewrite the
    record with tests/write_proofs.py)."""
    op = OPS[key[0]]
    derived = check(op, Shapes(*key[1:]))
    assert set(derived) == set(op.inputs) == set(op.vjps)
    # every Kronecker delta is contracted, the normalizations' nested ones included
    assert not any(form.has(KroneckerDelta) for form in derived.values()), derived
    assert RECORD.get(key) == row_hash(op, key), \
        f"the proof record of {key} is stale or missing: run tests/write_proofs.py"


def test_the_record_holds_nothing_but_the_rows_a_network_can_ask_for():
    assert set(RECORD) == set(recorded_keys())


def test_a_row_changed_without_its_record_is_not_trusted():
    row = OPS["sigmoid"]
    wrong = replace(row, vjps={"x": _wrong_sigmoid})
    key = proof_key(row, "none", False)
    assert proven(row, key) and not proven(wrong, key)


def test_a_process_trusts_the_record_and_proves_nothing(monkeypatch):
    def refuse(op, sh):
        raise AssertionError(f"{op.name} re-proved at run time")

    monkeypatch.setattr(proofs, "check", refuse)
    proofs.checked.cache_clear()
    blocks.templates.cache_clear()
    try:
        for net in (Network.uniform(depth=3, activation="tanh", loss="mse", residual=True,
                                    norm="layer", weight_decay=True),
                    Network(activations=("relu", "softmax"), loss="cce", bias="explicit",
                            batch=True, norm="batch", dropout=True),
                    Network.uniform(depth=2, activation="sigmoid", loss="bce", bias="augmented")):
            assert backprop(net).delta(1) is not None
        with pytest.raises(AssertionError, match="re-proved"):   # a custom row is proved
            proofs.checked("custom:x**3", "none", False)
    finally:
        monkeypatch.undo()
        proofs.checked.cache_clear()
        blocks.templates.cache_clear()


def test_the_table_has_a_row_for_every_activation_and_loss():
    assert set(rules.ACTIVATIONS) <= set(OPS)
    assert {"loss:" + name for name in rules.LOSSES} <= set(OPS)
    assert {"dense", "dense_augmented", "dense_bias"} <= set(OPS)


def test_a_custom_activation_gets_a_checked_row():
    op = activation_op("custom:x/(1+exp(-x))")
    assert op.inputs == ("x",) and op.name not in OPS   # made on demand, not registered
    check(op, Shapes("none", True))
    assert proofs.checked("custom:x/(1+exp(-x))", "explicit", False)


def test_a_network_is_blocks_of_calls_of_the_table_rows():
    net = Network.uniform(depth=3, activation="relu", loss="cce", output="softmax",
                          bias="explicit", norm="layer", dropout=True, residual=True)
    blocks_ = net.blocks
    assert [[call.op for call in b] for b in blocks_] == [
        ["dense_bias", "layer_norm", "relu", "dropout"],
        ["dense_bias", "layer_norm", "relu", "dropout_residual"],
        ["dense_bias", "softmax", "loss:cce"]]
    # every call names a table row and binds every port of it, inputs included
    for call in (c for b in blocks_ for c in b):
        op = OPS[call.op]
        assert set(call.args) | {op.output} == set(op.ports), call
    # one activation row serves h -> a and ĥ -> z: no row exists to rename ports
    assert not any("@" in name for name in OPS)
    # the residual add of layer 2 reads z_1: z_1 has two readers
    skip = blocks_[1][-1]
    assert skip.args["skip"] == Q("z", 1) and blocks_[1][0].args["x"] == Q("z", 1)


def _wrong_dense_W(b, G):
    return 2 * G * Transpose(b["x"])


def _wrong_sigmoid(b, G):   # σ instead of σ'
    return HadamardProduct(G, Act("sigmoid", b["x"], 0))


def _wrong_softmax(b, G):   # diag(y) G, the y yᵀ term forgotten
    return MatMul(DiagMatrix(b["y"]), G)


@pytest.mark.parametrize("name,port,claim,batch", [
    ("dense", "W", _wrong_dense_W, False), ("dense", "W", _wrong_dense_W, True),
    ("sigmoid", "x", _wrong_sigmoid, False), ("softmax", "x", _wrong_softmax, False)])
def test_a_wrong_claim_is_an_error_naming_the_op_and_the_input(name, port, claim, batch):
    row = OPS[name]
    wrong = replace(row, name=name + "_wrong", vjps={**row.vjps, port: claim})
    with pytest.raises(OpError, match=f"'{name}_wrong'.*'{port}'"):
        check(wrong, Shapes("none", batch))


def test_a_missing_vjp_is_an_error_naming_the_op_and_the_input():
    row = OPS["dense"]
    missing = replace(row, name="dense_half", vjps={"W": row.vjps["W"]})
    with pytest.raises(OpError, match="'dense_half'.*no VJP.*'x'"):
        check(missing, Shapes("none", False))


def test_a_claim_for_something_that_is_not_an_input_is_an_error():
    row = OPS["tanh"]
    extra = replace(row, name="tanh_extra", vjps={**row.vjps, "W": row.vjps["x"]})
    with pytest.raises(OpError, match="'tanh_extra'.*'W'"):
        check(extra, Shapes("none", False))


def test_backprop_checks_the_rows_it_uses(monkeypatch):
    row = OPS["sigmoid"]
    monkeypatch.setitem(OPS, "sigmoid", replace(row, vjps={"x": _wrong_sigmoid}))
    blocks.templates.cache_clear()
    proofs.checked.cache_clear()
    try:
        with pytest.raises(OpError, match="'sigmoid'.*'x'"):
            backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce"))
    finally:
        monkeypatch.undo()
        blocks.templates.cache_clear()
        proofs.checked.cache_clear()
    assert backprop(Network.uniform(depth=2, activation="sigmoid", loss="bce")).certify()


def test_a_wrong_jacobian_claim_is_an_error_naming_the_op_and_the_input():
    def diagonal_only(b):
        return b.sh.comp(b["y"], i, s) * KroneckerDelta(i, k)

    wrong = replace(OPS["softmax"], name="softmax_diag", jacobian=diagonal_only)
    with pytest.raises(OpError, match="'softmax_diag'.*Jacobian.*'x'"):
        check(wrong, Shapes("none", False))
