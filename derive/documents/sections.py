"""The engine's steps sorted into a document's sections (steps, not yet printed).

A plain network is written up as the output layer, the layer below it in full and the
remaining layers by their results. A network with the §1b options (residual, norm,
dropout) walks each hidden block through several named cotangents (∂J/∂z_l, ∂J/∂a_l,
∂J/∂ĥ_l, then δ_l); their steps arrive from the engine in one group per family, and
`regroup` gives each cotangent a group of its own so that every one is its own display
with its own lead-in. With skip connections the layer two below the output is where
the two backward paths first meet, so its walk down to δ gets a section of its own
(``below``); its parameters' gradients follow as in the layer above and are listed with
the remaining layers.
"""
from dataclasses import replace

from sympy import Integer

from ..ir.nodes import Act, MatPartial, Var
from ..ir.steps import Rule, Step
from ..vocab import LAYER
from .chains import FAMILY

#: the order in which the sections appear in the documents
ORDER = ("forward", "loss", "output", "hidden", "below", "general", "rest", "updates")

#: the families a remaining layer is summarized by (its last matrix line of each)
REST_GROUPS = ("delta_matrix", "dW", "db", "dJdz")
#: … and the extra ones a hidden block with options has
KIND_GROUPS = ("dJda", "dJdhhat", "norm_delta", "dgamma", "dbeta")

#: the cotangent a Hadamard-collection step of a hidden block names, by its variable
_COTANGENT = {"a": "dJda", "hhat": "dJdhhat"}


def regroup(step):
    """The step with the group of the cotangent it derives: ∂J/∂a_l (``dJda``), ∂J/∂ĥ_l
    (``dJdhhat``) and the normalization's δ_l (``norm_delta``) each become a chain of
    their own; every other step is returned unchanged.

    >>> from derive import Network, backprop
    >>> d = backprop(Network.uniform(depth=2, activation="tanh", loss="mse", dropout=True))
    >>> sorted({regroup(s).group for s in d.steps if s.layer == 1 and s.topic == "hidden"})
    ['dJda', 'dJdz', 'delta_matrix', 'linear']
    """
    lhs = step.lhs
    if step.group != "delta_matrix":
        return step
    if isinstance(lhs, MatPartial) and isinstance(lhs.wrt, Var) and lhs.wrt.kind in _COTANGENT:
        return replace(step, group=_COTANGENT[lhs.wrt.kind])
    if step.rule == Rule.MATRIX_FORM:
        return replace(step, group="norm_delta")
    return step


def squashed_input(nt, net):
    """pq writes the input as q_0 = σ_0(p_0), but only where the chain squashes at all:
    003's linear chain has no σ_0 (every activation the identity)."""
    return nt.sigma0 and any(name != "identity" for name in net.activations)


def _layers(net):
    """(output layer, the one below it, the first one where skip paths meet or None)."""
    L = net.L
    Lm1 = L - 1 if (net.symbolic or net.depth > 1) else None
    below = L - 2 if (net.residual and not net.symbolic and net.depth >= 3) else None
    return L, Lm1, below


def sections(doc, detail="standard"):
    """The engine's steps sorted into the document's sections (steps, not printed)."""
    d, net = doc.d, doc.d.net
    L, Lm1, below = _layers(net)
    detailed = {L, Lm1, below}
    first = Integer(1) if not net.symbolic else LAYER
    kept = REST_GROUPS + (KIND_GROUPS if net.kinds else ())
    sec = {k: [] for k in ORDER}
    if squashed_input(doc.nt, net):
        z0 = Var("z", 0, net.width(0), net.samples)
        sec["forward"].append(Step(z0, Act("input", Var("h", 0, *z0.shape)),
                                   Rule.DEFINITION, Integer(0), "forward"))
    for s in map(regroup, d.steps):
        if s.topic == "forward":
            if s.form == "matrix" or s.layer == first:
                sec["forward"].append(s)
        elif s.topic in ("loss", "general"):
            if s.topic == "loss" or net.symbolic or net.depth > 2:
                sec[s.topic].append(s)
        elif s.topic == "update":
            sec["updates"].append(s)
        elif s.layer == L:
            sec["output"].append(s)
        elif s.layer == Lm1:
            sec["hidden"].append(s)
        elif s.layer == below and s.topic == "hidden":
            sec["below"].append(s)
        elif net.symbolic:
            sec["general"].append(s)
        elif detail == "full" or (s.form == "matrix" and s.layer not in detailed
                                  and s.group in kept):
            sec["rest"].append(s)
        elif s.layer == below and s.form == "matrix" and s.group in kept:
            sec["rest"].append(s)     # its parameters' gradients, by the same steps
    if detail != "full":
        sec["rest"] = _last_per_layer(sec["rest"], keep_dJdz=net.kinds)
    return sec


def _last_per_layer(steps, keep_dJdz=False):
    """The final form of each remaining layer's error and gradients; with the §1b
    options also its named cotangents (∂J/∂z_l first), which the error is written with."""
    last = {}
    for s in steps:
        last[(s.layer, FAMILY.get(s.group, s.group))] = s
    return [s for s in steps if last[(s.layer, FAMILY.get(s.group, s.group))] is s
            and (keep_dJdz or s.group != "dJdz")]


def kind_results(d):
    """The summary of a network with the §1b options: every layer's named cotangents,
    error and gradients (the last matrix line of each family), from the output down, so
    that the boxed results can be computed in one backward sweep; None with a symbolic
    depth (the derivation's own summary states the general layer)."""
    net = d.net
    if not net.kinds or net.symbolic:
        return None
    kept = REST_GROUPS + KIND_GROUPS
    steps = [s for s in map(regroup, d.steps)
             if s.form == "matrix" and s.topic in ("output", "hidden", "weights", "bias")
             and s.group in kept and not (s.layer == net.L and s.group == "dJdz")]
    return [(s.lhs, s.rhs) for s in _last_per_layer(steps, keep_dJdz=True)]
