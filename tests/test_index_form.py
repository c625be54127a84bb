"""Each contraction rule alone, then the fixed point."""
from sympy import IndexedBase, KroneckerDelta, Sum, symbols

from derive.calculus.kronecker import (
    NESTED_RULES,
    common_delta,
    contract,
    kronecker,
    pull_constants,
    split_sum,
    tidy,
)

i, j, k, a, n, m = symbols("i j k a n m", integer=True, positive=True)
v, w = IndexedBase("v"), IndexedBase("w")


def test_split_sum():
    assert split_sum(Sum(v[i] + w[i], (i, 1, n))) == Sum(v[i], (i, 1, n)) + Sum(w[i], (i, 1, n))


def test_pull_constants():
    assert pull_constants(Sum(w[k] * v[i], (i, 1, n))) == w[k] * Sum(v[i], (i, 1, n))


def test_pull_constants_of_a_constant_sum_counts_terms():
    assert pull_constants(Sum(w[k], (i, 1, n))) == n * w[k]


def test_kronecker_picks_the_term():
    assert kronecker(Sum(v[i] * KroneckerDelta(i, a), (i, 1, n))) == v[a]
    assert kronecker(Sum(v[i] * KroneckerDelta(a, i), (i, 1, n))) == v[a]


def test_kronecker_with_two_indices_removes_one():
    out = kronecker(Sum(v[i] * w[j] * KroneckerDelta(j, k), (i, 1, n), (j, 1, m)))
    assert out == Sum(v[i] * w[k], (i, 1, n))


def test_kronecker_leaves_sums_without_delta():
    expr = Sum(v[i] * w[i], (i, 1, n))
    assert kronecker(expr) == expr


def test_common_delta_takes_out_a_shared_delta():
    d = KroneckerDelta(k, a)
    assert common_delta(2 * d * v[i] - d * w[i] / n) == d * (2 * v[i] - w[i] / n)
    assert common_delta(d * v[i] + w[i]) == d * v[i] + w[i]       # not every term


def test_a_delta_nested_in_a_sum_over_another_index_contracts_with_nested_rules():
    """Σ_r w_r Σ_q (2 δ_kq δ_rs − 2 δ_rs / n) v_qr: the normalization's shape of sum."""
    r, q, s = symbols("r q s", integer=True, positive=True)
    expr = Sum(w[r] * Sum((2 * KroneckerDelta(k, q) * KroneckerDelta(r, s)
                           - 2 * KroneckerDelta(r, s) / n) * v[q, r], (q, 1, n)), (r, 1, m))
    assert contract(expr).has(KroneckerDelta)
    assert (contract(expr, NESTED_RULES)
            - w[s] * (2 * v[k, s] - 2 * Sum(v[q, s], (q, 1, n)) / n)).expand() == 0


def test_contract_reaches_the_fixed_point():
    expr = Sum(v[i] * Sum(KroneckerDelta(a, i) * KroneckerDelta(k, j) * w[j], (j, 1, m)),
               (i, 1, n))
    assert contract(expr) == v[a] * w[k]


def test_contract_never_leaves_piecewise():
    expr = Sum((v[i] + 2 * w[i]) * KroneckerDelta(i, k), (i, 1, n))
    out = contract(expr)
    assert out == v[k] + 2 * w[k]
    assert not out.has(Sum)


def test_tidy_writes_the_bce_derivative_over_a_common_denominator():
    from sympy import diff, log
    zz, yy = symbols("z y")
    expr = tidy(diff(-(yy * log(zz) + (1 - yy) * log(1 - zz)), zz))
    assert (expr - (zz - yy) / (zz * (1 - zz))).simplify() == 0
