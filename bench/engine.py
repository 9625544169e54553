"""Engine throughput with the shipped rules: the record worker and `replay`, with peak memory.

Prints lines `name: value unit`. The worker is measured end to end from stored records to stored
hits (`auditcage worker --once` on SQLite, after intake), replay from the NDJSON file to the hits
file; each in a fresh process reporting its own peak RSS.

    python bench/engine.py [--records 100000] [--filters python|durable]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import PEAK_REPORTING_CLI, make_scenario  # noqa: E402


def _cli(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_REPORTING_CLI, *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    peak_kb = next(
        int(line.split("=")[1])
        for line in done.stderr.splitlines()
        if line.startswith("PEAK_RSS_KB=")
    )
    return elapsed, peak_kb / 1024, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reference, records = make_scenario(args.records, Path(tmp) / "scenario")
        count = sum(1 for _ in records.open("rb"))
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "AUDITCAGE_DATABASE_URL": f"sqlite:///{tmp}/engine.db",
        }
        seconds, peak, _ = _cli(
            ["replay", str(records), "--reference", str(reference), "--hits", f"{tmp}/hits.ndjson"],
            env,
        )
        with open(f"{tmp}/hits.ndjson", "rb") as written:
            hits = sum(1 for _ in written)
        print(f"engine_records: {count} records")
        print(f"replay: {count / seconds:.0f} records/s")
        print(f"replay_peak_rss: {peak:.0f} MB")
        print(f"replay_hits: {hits} hits")
        _cli(["reference", "load", str(reference)], env)
        _cli(["ingest", str(records)], env)
        seconds, peak, out = _cli(["worker", "--once", "--no-deliver"], env)
        print(f"worker_sqlite: {count / seconds:.0f} records/s")
        print(f"worker_sqlite_peak_rss: {peak:.0f} MB")
        print(f"worker_summary: {out.strip().splitlines()[-1]}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
