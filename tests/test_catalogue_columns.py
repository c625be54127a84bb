"""Error columns count from the text the user typed (issue 13): ``derive catalogue
--expr … --claim …`` used to wrap the expression as ``d/dX (…)``, so a column pointed
into the wrapper and the wrapper's bracket could even close the user's open one
(``a^T X b) + (a`` was accepted). Each row names the text with the mistake and the
offending character; the expected column is computed from that text, never typed in."""
import re

import pytest

from derive import ClaimError
from derive.claims.identity_check import verify_derivative, verify_identity
from derive.cli.main import main

END = None     # the mistake is the end of the text: column len + 1

#: (expression, claim, which text is wrong, its offending substring)
MALFORMED = [
    ("a^T X b)", "a b^T", "expr", ")"),
    ("a^T X b) + (a", "a b^T", "expr", ")"),        # the wrapper's ')' closed the '('
    ("a^T (X b", "a b^T", "expr", END),
    ("a^T # b", "a b^T", "expr", "#"),
    ("a^T X relu(b)", "a b^T", "expr", "relu"),
    ("det X + a^T X b", "a b^T", "expr", "X"),
    ("tr(X^{-T b)", "I", "expr", "b"),
    ("log det(X", "X^{-T}", "expr", END),
    ("a^T X b", "a b^T )", "claim", ")"),
    ("a^T X b", "a ^ b", "claim", "b"),
    ("a^T X b", "a b^T +", "claim", END),
    ("a^T X b", "a b^T $", "claim", "$"),
    ("a^T X b", "det a", "claim", "a"),
]


def _column(text, offending):
    return len(text) + 1 if offending is END else text.index(offending) + 1


@pytest.mark.parametrize("expr, claim, where, offending", MALFORMED)
def test_cli_column_counts_in_the_users_text(expr, claim, where, offending, capsys):
    assert main(["catalogue", "--expr", expr, "--wrt", "X", "--claim", claim]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    text = expr if where == "expr" else claim
    assert re.search(r"\(column (\d+)\)$", err.strip()).group(1) == \
        str(_column(text, offending)), err
    assert ("the claim:" in err) == (where == "claim")


@pytest.mark.parametrize("expr, claim, where, offending", MALFORMED)
def test_api_columns_count_in_the_users_text(expr, claim, where, offending):
    text = expr if where == "expr" else claim
    with pytest.raises(ClaimError) as info:
        verify_derivative(expr, "X", claim)
    assert info.value.column == _column(text, offending)
    prefix = "d/dX "               # verify_identity: the identity is the user's text
    identity = prefix + (f"({expr})" if where == "claim" else expr)
    with pytest.raises(ClaimError) as info:
        verify_identity(identity, claim)
    shift = len(prefix) if where == "expr" else 0
    assert info.value.column == shift + _column(text, offending)
