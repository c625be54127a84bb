"""The §1b layer kinds (residual, dropout, layer and batch norm, with weight decay):
their op rows checked alone, wrong claims refused, and every derived network certified
against the componentwise derivative of its fully expanded loss (the oracle)."""
from dataclasses import replace
from itertools import product

import pytest
from sympy.matrices.expressions import HadamardProduct

from derive import Network, SpecError, backprop
from derive.engine import kinds
from derive.engine.certificate import RESIDUAL_WIDTHS
from derive.engine.ops import OPS, Shapes
from derive.engine.vjp import OpError, check
from derive.ir.nodes import MatPartial, Var
from derive.vocab import LOSS

ACTIVATIONS = ("tanh", "sigmoid", "relu", "softplus")


def _options():
    """Every combination of the options at the depths where it changes something."""
    rows = []
    for norm, dropout, batch, decay in product(("none", "layer", "batch"), (False, True),
                                               (False, True), (False, True)):
        if norm == "batch" and not batch:
            continue
        rows.append((2, dict(norm=norm, dropout=dropout, batch=batch, weight_decay=decay)))
    # residual networks start at depth 3: every norm and dropout choice, batch mode
    # and weight decay taking turns (batch norm needs the batch)
    for n, (norm, dropout) in enumerate(product(("none", "layer", "batch"), (False, True))):
        rows.append((3, dict(residual=True, norm=norm, dropout=dropout,
                             batch=norm == "batch" or n % 2 == 1, weight_decay=n % 3 == 0)))
    rows.append((1, dict(norm="layer", dropout=True)))   # no hidden layer: nothing changes
    changed = [(depth, opts) for depth, opts in rows   # a plain network is tested elsewhere
               if opts.get("residual") or opts["dropout"] or opts["norm"] != "none"]
    return [(depth, opts, ACTIVATIONS[n % len(ACTIVATIONS)])
            for n, (depth, opts) in enumerate(changed)]


@pytest.mark.slow
@pytest.mark.parametrize("depth,options,activation", _options())
def test_every_option_combination_is_certified(depth, options, activation):
    net = Network.uniform(depth=depth, activation=activation, loss="mse", bias="explicit",
                          **options)
    cert = backprop(net).certify(exact=False)
    assert cert.holds, cert.failures
    kinds_ = 2 if net.norm != "none" else 0
    assert cert.entries == sum(w * (v + 1) for v, w in zip(cert.widths, cert.widths[1:])) + \
        kinds_ * sum(cert.widths[1:-1])


def test_a_symbolic_depth_residual_layer_norm_network_is_certified_at_depth_3():
    net = Network.uniform(depth="L", activation="tanh", loss="mse", residual=True,
                          norm="layer")
    d = backprop(net)
    assert "the depth L is at least 3" in d.assumptions
    cert = d.certify(exact=False)
    assert cert.holds and cert.widths == RESIDUAL_WIDTHS


def test_residual_fan_out_is_one_accumulation_step():
    d = backprop(Network.uniform(depth=4, activation="tanh", loss="mse", residual=True))
    z2, z3 = (Var("z", k, d.net.width(k), 1) for k in (2, 3))
    # z_2 is read by W_3 and by layer 3's skip; z_3 by W_4 only (layer 4 is the output)
    assert MatPartial(LOSS, z3) in d.dJdz(2).args
    assert not d.dJdz(3).has(MatPartial(LOSS, Var("z", 4, d.net.width(4), 1)))
    steps = [s for s in d.steps if s.rule == "sum over paths"]
    assert [s.layer for s in steps] == [2, 1]


def test_dropout_takes_sigma_prime_of_the_pre_activation_not_of_the_masked_output():
    d = backprop(Network.uniform(depth=2, activation="sigmoid", loss="mse", dropout=True))
    delta = d.delta(1)
    assert not any(v.kind == "z" and v.layer == 1 for v in delta.atoms(Var))
    assert any(v.kind == "h" for v in delta.atoms(Var))


def test_normalized_layers_have_gamma_and_beta_gradients_and_the_output_layer_none():
    d = backprop(Network.uniform(depth=3, activation="tanh", loss="mse", norm="layer"))
    assert d.grad("gamma", 2).shape == d.grad("beta", 2).shape == (d.net.width(2), 1)
    with pytest.raises(SpecError, match="gamma"):
        d.grad("gamma", 3)


def _without_xhat_term(b, G):
    """The layer-norm VJP with the x̂ ⊙ Σ(g ⊙ x̂) term forgotten (a classic slip)."""
    right = kinds.norm_vjp_x(b, G, True)
    xhat = b["xhat"]
    return right.replace(lambda e: isinstance(e, HadamardProduct) and xhat in e.args
                         and len(e.args) == 2, lambda e: 0 * e)


@pytest.mark.parametrize("name,port,wrong,batch", [
    ("layer_norm", "x", _without_xhat_term, False),
    ("layer_norm", "gamma", lambda b, G: b.sh.total(G), True),
    ("batch_norm", "beta",                             # γ's VJP given for β
     lambda b, G: b.sh.total(HadamardProduct(G, b["xhat"])), True),
    ("dropout", "x", lambda b, G: G, False),   # the mask forgotten
    ("residual", "skip", lambda b, G: 2 * G, True),
])
def test_a_wrong_vjp_claim_of_a_layer_kind_is_refused(name, port, wrong, batch):
    op = OPS[name]
    bad = replace(op, vjps={**op.vjps, port: wrong})
    with pytest.raises(OpError, match=f"{name}.*{port}"):
        check(bad, Shapes("none", batch, kinds.NORM_OF.get(name, "none")))


@pytest.mark.parametrize("options,message", [
    (dict(norm="batch"), "needs batch=True"),
    (dict(norm="group"), "allowed: none, layer, batch"),
    (dict(residual=True, depth=2), "at least 3"),
    (dict(residual=True, widths=(2, 3, 4, 2)), "must be equal"),
    (dict(dropout=1), "dropout must be True or False"),
    (dict(norm="layer", bias="augmented"), "not available with bias='augmented'"),
])
def test_bad_layer_options_are_one_line_spec_errors(options, message):
    options = {"depth": 3, **options}
    depth = options.pop("depth")
    with pytest.raises(SpecError, match=message):
        Network.uniform(depth=depth, activation="tanh", loss="mse", **options)
