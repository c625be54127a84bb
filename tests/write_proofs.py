"""Re-prove every op row and rewrite the shipped proof record, derive/engine/proof_record.py.

Run after changing an op row: ``PYTHONPATH=$PWD python tests/write_proofs.py``. Every key
of `derive.engine.proofs.recorded_keys` is checked (`derive.engine.vjp.check`, which
raises on a claim that does not hold) before its hash is written; tests/test_proofs.py
fails while the record and the table disagree.
"""
import sys
from pathlib import Path

from derive.engine import kinds  # noqa: F401  (registers the §1b rows)
from derive.engine.ops import Shapes, op_row
from derive.engine.proofs import record_source, recorded_keys, row_hash
from derive.engine.vjp import check
from derive.util.files import write_atomic

RECORD = Path(__file__).resolve().parent.parent / "derive" / "engine" / "proof_record.py"


def main():
    hashes = {}
    for key in recorded_keys():
        op = op_row(key[0])
        check(op, Shapes(*key[1:]))
        hashes[key] = row_hash(op, key)
        print("proved", *key, file=sys.stderr)
    write_atomic(str(RECORD), record_source(hashes), force=True)
    print(f"{len(hashes)} proofs recorded in {RECORD}", file=sys.stderr)


if __name__ == "__main__":
    main()
