"""Engine throughput with the shipped rules: `replay` and the record worker, with peak memory.

Prints lines `name: value unit`:
- `replay`: `auditcage replay` from the NDJSON file to the hits file, for each size of `--sizes`
  (a generated scenario of that volume over the same six months, or the first records of
  `--file`), with the growth of throughput and memory from the smallest to the largest size;
- `worker_sqlite`, `worker_pg`: `auditcage worker --once --no-deliver` end to end from stored
  records to stored hits (after `reference load` and `ingest`), on SQLite and on a throwaway
  PostgreSQL (bench/pg.py), at the first size, as the worker times its pass (rule and reference
  load included); `_process` is the whole process, which also routes the new alerts to their
  recipients (`_routing`, alerts/s: the notifier's work, which compose runs apart).
Each run is a fresh process reporting its own peak RSS.

    python bench/engine.py [--sizes 30000,100000] [--file records.ndjson --reference DIR]
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMED = re.compile(r" in ([\d.]+) s$")  # the worker's own timing of each stage
sys.path.insert(0, str(ROOT))

from bench.ingest import PEAK_REPORTING_CLI, make_scenario  # noqa: E402
from bench.pg import temporary_cluster  # noqa: E402


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


def _head(records: Path, count: int, out: Path) -> int:
    """The first `count` records of the file (all of them when it has fewer), and how many."""
    with records.open("rb") as source, out.open("wb") as target:
        lines = list(itertools.islice(source, count))
        target.writelines(lines)
    return len(lines)


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "AUDITCAGE_DATABASE_URL": url}


def replay_figures(records: Path, reference: Path, tmp: str, count: int) -> tuple[float, float]:
    """(records/s, peak MB) of one replay, with its lines printed."""
    seconds, peak, _ = _cli(
        ["replay", str(records), "--reference", str(reference), "--hits", f"{tmp}/hits.ndjson"],
        _env(f"sqlite:///{tmp}/unused.db"),
    )
    with open(f"{tmp}/hits.ndjson", "rb") as written:
        hits = sum(1 for _ in written)
    rate = count / seconds
    print(f"replay_{count}: {rate:.0f} records/s")
    print(f"replay_{count}_peak_rss: {peak:.0f} MB")
    print(f"replay_{count}_hits: {hits} hits", flush=True)
    return rate, peak


def worker_figures(name: str, url: str, records: Path, reference: Path, count: int) -> None:
    """`worker`: stored records to stored hits, timed by the worker itself (its first line);
    the same pass then routes the new alerts (notifications), timed apart on its second line."""
    env = _env(url)
    _cli(["reference", "load", str(reference)], env)
    _cli(["ingest", str(records)], env)
    seconds, peak, out = _cli(["worker", "--once", "--no-deliver"], env)
    evaluated, routed = out.strip().splitlines()[-2:]
    records_s = float(TIMED.search(evaluated)[1])  # type: ignore[index]
    routing_s = float(TIMED.search(routed)[1])  # type: ignore[index]
    alerts = int(re.search(r"alerts: (\d+) routed", routed)[1])  # type: ignore[index]
    print(f"worker_{name}: {count / records_s:.0f} records/s")
    print(f"worker_{name}_process: {count / seconds:.0f} records/s (whole process, with routing)")
    print(f"worker_{name}_routing: {alerts / routing_s:.1f} alerts/s ({alerts} alerts)")
    print(f"worker_{name}_peak_rss: {peak:.0f} MB")
    print(f"worker_{name}_summary: {evaluated} | {routed}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30000", help="comma-separated record counts")
    parser.add_argument("--file", type=Path, help="an NDJSON record file instead of a scenario")
    parser.add_argument("--reference", type=Path, help="reference data directory for --file")
    parser.add_argument("--no-worker", action="store_true", help="replay figures only")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        figures = []
        first: tuple[Path, Path, int] | None = None
        for size in sizes:
            if args.file is not None:  # the first `size` records of the file
                reference = args.reference or args.file.parent / "reference"
                part = Path(tmp) / f"records-{size}.ndjson"
                count = _head(args.file, size, part)
            else:  # a scenario of that volume over the same six months
                reference, part = make_scenario(size, Path(tmp) / f"scenario-{size}")
                count = sum(1 for _ in part.open("rb"))
            figures.append((count, *replay_figures(part, reference, tmp, count)))
            first = first or (part, reference, count)
        if len(figures) > 1:
            (n0, rate0, peak0), (n1, rate1, peak1) = figures[0], figures[-1]
            print(f"replay_growth_records: {n1 / n0:.1f} x ({n0} -> {n1})")
            print(f"replay_growth_throughput: {rate1 / rate0:.2f} x (1.00 = linear time)")
            print(f"replay_growth_peak_rss: {peak1 / peak0:.2f} x")
        print(f"replay: {figures[-1][1]:.0f} records/s")
        print(f"replay_peak_rss: {figures[-1][2]:.0f} MB", flush=True)
        if args.no_worker or first is None:
            return
        part, reference, count = first
        worker_figures("sqlite", f"sqlite:///{tmp}/engine.db", part, reference, count)
        with temporary_cluster() as url:
            if url is None:
                print("worker_pg: not measured (no PostgreSQL binaries on this machine)")
            else:
                worker_figures("pg", url, part, reference, count)


if __name__ == "__main__":
    main()
