"""Pairwise covers of option products, for tests whose code under test depends on each
option and on pairs of them, not on the whole product.

``pairwise(factors, keep=())`` returns rows (tuples, one value per factor) such that every
pair of values of any two factors occurs in some row. ``keep`` names factor positions
whose full product must appear (the keys the code under test caches on, e.g. the hidden
block's (activation, norm, dropout, residual)): each combination of them is one row at
least, and the other factors are chosen greedily to cover the pairs still missing.
Deterministic: the same factors give the same rows. ``allowed(row)`` filters rows the
code refuses (batch norm without a batch).
"""
import itertools


def missing_pairs(rows, factors, allowed=lambda row: True):
    """The (i, a, j, b) pairs of values of factors i < j that no row shows and that some
    allowed row could show."""
    possible = {(i, r[i], j, r[j]) for r in itertools.product(*factors) if allowed(r)
                for i, j in itertools.combinations(range(len(factors)), 2)}
    seen = {(i, r[i], j, r[j]) for r in rows
            for i, j in itertools.combinations(range(len(factors)), 2)}
    return possible - seen


def _gain(row, todo):
    return sum((i, row[i], j, row[j]) in todo
               for i, j in itertools.combinations(range(len(row)), 2))


def pairwise(factors, keep=(), allowed=lambda row: True):
    """Rows covering every allowed pair of values; the full product of the ``keep``
    positions among them. Ties go to the row whose values are used least so far, so the
    free factors take turns."""
    factors = [tuple(f) for f in factors]
    candidates = [r for r in itertools.product(*factors) if allowed(r)]
    todo = missing_pairs([], factors, allowed)
    rows, used = [], {}

    def take(pool):
        best = max(pool, key=lambda r: (_gain(r, todo), -sum(used.get((i, v), 0)
                                                             for i, v in enumerate(r))))
        rows.append(best)
        todo.difference_update((i, best[i], j, best[j])
                               for i, j in itertools.combinations(range(len(best)), 2))
        for i, v in enumerate(best):
            used[i, v] = used.get((i, v), 0) + 1

    keys = {tuple(r[k] for k in keep): None for r in candidates} if keep else {}
    for key in keys:       # one row per key, the one covering the most missing pairs
        take([r for r in candidates if tuple(r[k] for k in keep) == key])
    while todo:
        take(candidates)
    return rows
