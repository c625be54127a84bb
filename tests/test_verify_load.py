"""A verdict never depends on the machine's load: which instances are proved exactly and
whether a hint is found are decided by counts (operations, repairs), not by a clock."""
import itertools
import time

from derive import Network, verify
from derive.claims import instances


def _verdict(net, param, claim):
    instances.clear_caches()
    v = verify(net, param, claim)
    return v.holds, v.reason, v.hint, v.checked, v.exact, v.correct


def test_a_slow_machine_gets_the_same_verdict(monkeypatch):
    net = Network.uniform(depth="L", activation="sigmoid", loss="bce")
    claims = [("W_L", "(z_L - y) z_{L-1}^T"), ("W_L", "2 (z_L - y) z_{L-1}^T")]
    fast = [_verdict(net, *c) for c in claims]
    clock = itertools.count(step=1000.0)          # every reading 1000 s after the last
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))
    slow = [_verdict(net, *c) for c in claims]
    assert slow == fast
    assert fast[0][4] and fast[1][2]              # something was proved; a hint was found
