"""The pairwise cover that the option-table tests use (tests/pairwise.py): every pair of
values of two factors in some row, the full product of the kept factors, the refused rows
left out, and a gap is reported."""
import itertools

from pairwise import missing_pairs, pairwise

FACTORS = [(False, True), ("none", "layer", "batch"), (False, True), (False, True),
           ("none", "explicit"), (1, 2, 3)]


def _ok(row):
    return row[1] != "batch" or row[3]


def test_every_pair_is_covered_and_the_kept_product_is_there():
    rows = pairwise(FACTORS, keep=(0, 1), allowed=_ok)
    assert missing_pairs(rows, FACTORS, _ok) == set()
    assert {(r[0], r[1]) for r in rows} == set(itertools.product(*FACTORS[:2]))
    assert all(_ok(r) for r in rows)
    assert len(rows) < len([r for r in itertools.product(*FACTORS) if _ok(r)]) // 4
    assert rows == pairwise(FACTORS, keep=(0, 1), allowed=_ok)      # deterministic


def test_a_missing_pair_is_reported():
    rows = pairwise(FACTORS)
    assert missing_pairs(rows[:-1], FACTORS) != set()
    gap = missing_pairs([r for r in rows if r[5] != 3], FACTORS)
    assert (0, False, 5, 3) in gap and (4, "none", 5, 3) in gap
    # a pair no allowed row can show is not asked for
    assert not [p for p in missing_pairs(pairwise(FACTORS, allowed=_ok), FACTORS, _ok)]
    assert (1, "batch", 3, False) not in missing_pairs([], FACTORS, _ok)
