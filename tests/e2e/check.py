"""Run the planted cases of some ids end to end and print a verdict per case.

    python -m tests.e2e.check VEH- CP-3 --records 1500 --out /tmp/e2e-veh

Each argument is an id or a prefix. Exits 1 when a case fails.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from auditcage.demo.plants import PLANTS
from auditcage.demo.scenario import generate
from tests.e2e.planted import judge, replay_province


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("prefixes", nargs="*", default=[""])
    parser.add_argument("--records", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--noise", action="store_true", help="print hits outside planted cases")
    args = parser.parse_args()
    ids = sorted(
        {s.catalogue_id for s in PLANTS if any(s.catalogue_id.startswith(p) for p in args.prefixes)}
    )
    province = generate(seed=args.seed, records_target=args.records, plants=ids)
    hits, written = replay_province(province, args.out)
    verdicts = judge(province.planted, hits, written)
    for verdict in verdicts:
        print(verdict)
    if args.noise:
        planted = {r for case in province.planted for r in case.record_ids}
        noise = Counter(h["rule_id"] for h in hits if not planted & set(h["record_ids"]))
        print("hits on normal flows:", dict(noise.most_common()))
    failed = sum(not v.passed for v in verdicts)
    print(f"{len(verdicts) - failed} of {len(verdicts)} cases pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
