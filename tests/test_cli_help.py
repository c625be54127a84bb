"""The help of every subcommand, from argparse itself (SPEC §6): the allowed values of
every closed option, the defaults, two examples and the exit codes."""
import contextlib
import io

import pytest

from derive.claims.free_names import WORDS
from derive.cli.main import build_parser
from derive.printing.notation import PRESETS
from derive.spec.network import BIAS_MODES
from derive.spec.rules import ACTIVATIONS, LOSSES

ALLOWED = {
    "notes": [*LOSSES, *BIAS_MODES, *PRESETS, "numerator", "denominator", "latex",
              "markdown", "pdf", "text", *ACTIVATIONS, "custom:EXPR"],
    "verify": [*LOSSES, *BIAS_MODES, *PRESETS, *ACTIVATIONS, "custom:EXPR"],
    "export": [*LOSSES, *BIAS_MODES, *ACTIVATIONS, "custom:EXPR"],
    "catalogue": ["text", "latex", "markdown", "pdf"],
}


def help_of(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*argv, "--help"])
    assert exit_.value.code == 0
    return " ".join(out.getvalue().split())     # argparse wraps lines anywhere


@pytest.mark.parametrize("command", sorted(ALLOWED))
def test_the_help_of_every_subcommand_lists_its_allowed_values(command):
    text = help_of(command)
    for value in ALLOWED[command]:
        assert value in text, (command, value)
    assert text.count(f"derive {command} ") >= 2           # two examples
    for status in ("0 success", "1 a verified claim does not hold", "2 bad input", "130",
                   "143"):
        assert status in text
    assert "-o FILE, --output FILE" in text or command == "verify"
    assert "--output-activation" in text or command == "catalogue"


def test_defaults_are_shown_and_the_top_level_names_the_gallery():
    assert "(default: bce)" in help_of("notes") and "(default: hz)" in help_of("verify")
    top = help_of()
    assert "gallery" in top and "output/" in top and "--version" in top
    for command in ALLOWED:
        assert command in top


def test_the_catalogue_help_names_every_word_of_the_expression_syntax():
    text = help_of("catalogue")
    for word in (*WORDS, "X^{-1}", "X^{-T}", "log det"):
        assert word in text, word


def test_dash_capital_v_prints_the_version_as_version_does():
    from derive import __version__
    outputs = []
    for flag in ("-V", "--version"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
            build_parser().parse_args([flag])
        assert exit_.value.code == 0
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1] == f"derive {__version__}\n"


#: each loss as the notes define it (typed in as the oracle; the help prints the table)
LOSS_LINES = {"mse": "J = (1/2) Σ_i (z_i - y_i)^2", "sse": "J = Σ_i (z_i - y_i)^2",
              "mean_mse": "J = (1/n) Σ_i (z_i - y_i)^2",
              "bce": "J = Σ_i [-y_i log(z_i) - (1 - y_i) log(1 - z_i)]",
              "cce": "J = Σ_i [-y_i log(z_i)]"}


@pytest.mark.parametrize("command", ["notes", "verify", "export", "catalogue"])
def test_the_help_defines_every_loss_where_there_is_a_loss_option(command):
    text = help_of(command)
    assert ("losses (" in text) == (command != "catalogue")
    if command == "catalogue":
        return
    assert set(LOSS_LINES) == set(LOSSES)
    for name, formula in LOSS_LINES.items():
        assert f"{name} {formula} {LOSSES[name].title}" in text, name
    assert "mse is half the sum, not a mean" in text and "PyTorch's mse_loss" in text
    assert text.index("losses (") < text.index("exit status:")
