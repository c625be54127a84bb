"""The errata gallery, ``output/errata.md``: mistakes that published backpropagation
write-ups make, typed in as chains and judged by `check_steps` (SPEC §3b).

Only the chains are typed here; every verdict, named mistake and repair on the page is
the checker's own output for that chain, printed when the page is built.

>>> [e.name for e in ERRATA][:2]
['seed_000_closed_form', 'softmax_elementwise']
"""
from dataclasses import dataclass

from ..claims.chain_check import check_steps
from ..claims.chain_report import format_report
from ..spec.network import Network

ERRATA_FILE = "errata.md"


@dataclass(frozen=True)
class Erratum:
    name: str
    title: str
    where: str        # what the write-up did, in our words
    net: Network
    chain: str


N = Network
ERRATA = [
    Erratum("seed_000_closed_form", "The last layer's closed form with its factors swapped",
            "The question in seed 000 (deep sigmoid network, binary cross-entropy) writes "
            "the chain rule for the last weight matrix and the closed form it is said to "
            "equal; typed here as the thread writes both, in LaTeX with an en dash for the "
            "minus.",
            N.uniform(depth="L", activation="sigmoid", loss="bce"),
            "\\frac{\\partial J}{\\partial W_L} = \\frac{\\partial J}{\\partial \\mathbf{z}_L}"
            " \\frac{\\partial \\mathbf{z}_L}{\\partial \\mathbf{h}_L} \\frac{\\partial "
            "\\mathbf{h}_L}{\\partial W_L}\n"
            " = \\mathbf{z}_{L-1}(\\mathbf{z}_L – \\mathbf{y})"),
    Erratum("softmax_elementwise", "The softmax Jacobian handled as elementwise",
            "A common slip in softmax write-ups: the derivative of softmax is taken entry "
            "by entry, as if softmax were a sigmoid, and multiplied onto the gradient "
            "elementwise. Softmax mixes its entries, so its Jacobian is not diagonal.",
            N.uniform(depth="L", activation="tanh", loss="cce", output="softmax"),
            "delta_L = dJ/dz_L dz_L/dh_L\n"
            "        = dJ/dz_L ⊙ z_L ⊙ (1 - z_L)\n"
            "        = -(y ⊘ z_L) ⊙ z_L ⊙ (1 - z_L)"),
    Erratum("batch_norm_dropped_term", "A batch-normalization gradient with a term dropped",
            "Hand derivations of batch normalization's backward pass often treat the batch "
            "variance as a constant, which drops the term that flows back through it "
            "(the one with the normalized activations in it). Typed in with the δ of the "
            "layer above.",
            N.uniform(depth=3, activation="tanh", loss="mse", norm="batch", batch=True),
            "delta_2 = ((1 ⊘ sqrt(var_2 + epsilon)) 1^T) ⊙ (((gamma_2 1^T) ⊙ (W_3^T delta_3) "
            "⊙ tanh'(hhat_2)) - (1/m) (((((gamma_2 1^T) ⊙ (W_3^T delta_3) ⊙ tanh'(hhat_2))) "
            "1) 1^T))"),
    Erratum("softmax_off_by_two", "The off-by-two in a softmax derivation",
            "A softmax output trained on the summed squared error (no one half in front): "
            "the derivation carries the softmax Jacobian correctly but loses the factor "
            "two that the square brings down.",
            N.uniform(depth="L", activation="tanh", loss="sse", output="softmax"),
            "delta_L = dJ/dz_L dz_L/dh_L\n"
            "        = (diag(z_L) - z_L z_L^T) (z_L - y)"),
]


def entry_markdown(e, report):
    """One erratum: what was written, the chain, and the checker's verdict."""
    lines = [f"## {e.title}", "", e.where, "", f"Network: {e.net.describe()}.", "",
             "The chain as typed in:", "", "```text", e.chain, "```", "",
             "`derive check` says:", "", "```text", format_report(report), "```", "",
             "The chain as the checker read it, with its marks:", "", *marked(report), ""]
    if report.repair_latex:
        lhs = report.steps[report.first_wrong].lhs_latex
        lines += ["The repaired step:", "", "$$", f"{lhs} = {report.repair_latex}", "$$", ""]
    if report.first_wrong is None:
        lines.append("Every step holds.")
    elif report.mistake:
        lines.append(f"The first wrong step is step {report.first_wrong}; the mistake "
                     f"named by a repair that verifies: {report.rule}.")
    else:
        lines.append(f"The first wrong step is step {report.first_wrong}; the checker "
                     "names no mistake of its catalogue for it.")
    return "\n".join(lines) + "\n"


def marked(report):
    """The steps as one aligned display (the chain printer's LaTeX), ✓ or ✗ on each."""
    rows, previous = [], None
    for s in report.steps:
        lhs = s.lhs_latex if s.lhs != previous else ""
        previous = s.lhs
        mark = "\\checkmark" if s.holds else "\\times"
        rows.append(f"{lhs} &= {s.latex} && {mark}")
    return ["$$", "\\begin{aligned}", " \\\\\n".join(rows), "\\end{aligned}", "$$"]


def errata_markdown(errata=ERRATA):
    """The errata page: each entry's chain judged by `check_steps` now."""
    parts = ["# Errata: published backpropagation mistakes, checked step by step", "",
             "Each entry is a mistake that appears in backpropagation write-ups, typed in as "
             "a chain of steps. The verdicts below are not typed: they are what "
             "`check_steps` (`derive check --steps`) prints for the chain when this page is "
             "built — which step is the first wrong one, the mistake a verified repair "
             "names, and the repaired step. Regenerate with `derive` (no arguments).", ""]
    for e in errata:
        parts.append(entry_markdown(e, check_steps(e.net, e.chain)))
    return "\n".join(parts)
