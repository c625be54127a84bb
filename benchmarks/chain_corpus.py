"""Benchmark: `check_steps` on the generated corpus of derivation chains (SPEC §3b).

The corpus (tests/chain_corpus.py) holds correct chains over the rule table's
(output activation, loss) pairs and the §1b kinds, and the same chains with one mistake
injected at a known step (a mistake of the checker's catalogue, or a slip outside it,
which must be found but cannot be named). Printed: the number of chains (correct / with
a mistake), the score on the first wrong step, the correct chains flagged, the mistakes
named as injected, what the slips outside the catalogue were called, and every miss.

    python benchmarks/chain_corpus.py [EVERY]   # every EVERY-th network (default 4: 490 chains; 1: all)
"""
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a clone
sys.path.insert(0, str(ROOT / "tests"))   # the corpus generator lives beside the tests

from chain_corpus import corpus  # noqa: E402

from derive import check_steps  # noqa: E402


def main(every=1):
    cases = corpus(every)
    start = time.perf_counter()
    found = flagged = named = foreign = 0
    misses, kinds, foreign_named = [], Counter(), Counter()
    for case in cases:
        r = check_steps(case.net, case.text)
        if case.first_wrong is None:
            flagged += r.first_wrong is not None
            if r.first_wrong is not None:
                misses.append((case.name, "flagged", r.first_wrong, r.mistake))
            continue
        kinds[case.mistake] += 1
        found += r.first_wrong == case.first_wrong
        if case.mistake.startswith("unnamed:"):
            foreign += 1
            foreign_named[r.mistake or r.hint or "(nothing)"] += 1
            if r.first_wrong != case.first_wrong:
                misses.append((case.name, r.first_wrong))
            continue
        named += r.mistake == case.mistake
        if r.first_wrong != case.first_wrong or r.mistake != case.mistake:
            misses.append((case.name, r.first_wrong, r.mistake, r.repair))
    seconds = time.perf_counter() - start
    correct = sum(c.first_wrong is None for c in cases)
    wrong = len(cases) - correct
    print(f"chains: {len(cases)} ({correct} correct, {wrong} with one injected mistake)")
    print(f"mistakes injected: {dict(sorted(kinds.items()))}")
    print(f"first wrong step found: {found}/{wrong} = {100 * found / max(wrong, 1):.1f} %")
    known = wrong - foreign
    print(f"mistake named as injected: {named}/{known} = {100 * named / max(known, 1):.1f} % "
          f"(of the {known} mistakes in the checker's catalogue)")
    print(f"slips outside the catalogue ({foreign}): named as {dict(foreign_named)}")
    print(f"correct chains flagged: {flagged}/{correct}")
    print(f"time: {seconds:.0f} s ({seconds / len(cases):.2f} s a chain)")
    for miss in misses:
        print("  miss:", *miss)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
