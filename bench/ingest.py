"""Ingest throughput and peak memory: NDJSON → `auditcage ingest` → SQLite and PostgreSQL.

Prints lines `name: value unit`. Memory is the peak RSS of the ingest process, measured for two
file sizes so that flat memory shows as equal figures. Default sizes: 100 000 and 300 000;
`--full` adds 1 000 000.

    python bench/ingest.py [--full] [--sizes 100000,300000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pg import temporary_cluster  # noqa: E402


def make_scenario(size: int, out: Path) -> tuple[Path, Path]:
    from auditcage.demo import generate, write_scenario

    province = generate(seed=11, start=date(2026, 5, 1), months=6, records_target=size)
    return write_scenario(province, out)


# Runs the CLI in a child that reports its own peak RSS when it exits.
PEAK_REPORTING_CLI = (
    "import atexit, resource, sys\n"
    "atexit.register(lambda: sys.stderr.write("
    "'PEAK_RSS_KB=%d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
    "from auditcage.cli import main\n"
    "sys.argv = ['auditcage', *sys.argv[1:]]\n"
    "main()\n"
)


def run_ingest(url: str, reference_dir: Path, records: Path) -> tuple[float, int, float]:
    """(seconds, records read, peak RSS MB) of one `auditcage ingest` in a fresh process."""
    env = {**os.environ, "AUDITCAGE_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-c", PEAK_REPORTING_CLI]
    subprocess.run(
        [*cli, "reference", "load", str(reference_dir)], env=env, check=True, capture_output=True
    )
    started = time.perf_counter()
    done = subprocess.run(
        [*cli, "ingest", str(records)], env=env, check=True, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    peak_kb = next(
        int(line.split("=")[1])
        for line in done.stderr.splitlines()
        if line.startswith("PEAK_RSS_KB=")
    )
    read = next(
        int(line.split()[-1])
        for line in done.stdout.splitlines()
        if line.strip().startswith("read")
    )
    return elapsed, read, peak_kb / 1024


def head(records: Path, count: int, out: Path) -> Path:
    """The first `count` records of a file (same world, same reference: only the file grows)."""
    with records.open("rb") as source, out.open("wb") as target:
        for n, line in enumerate(source):
            if n >= count:
                break
            target.write(line)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="also 1 000 000 records")
    parser.add_argument("--sizes", default="100000,300000")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if args.full and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    with tempfile.TemporaryDirectory() as tmp, temporary_cluster() as pg_url:
        # One world for every size, so memory can only grow with the file, not the reference.
        reference_dir, full = make_scenario(max(sizes), Path(tmp) / "scenario")
        for size in sizes:
            records = head(full, size, Path(tmp) / f"records-{size}.ndjson")
            mb = records.stat().st_size / 1e6
            print(f"ingest_file_{size}: {mb:.0f} MB")
            targets = [("sqlite", f"sqlite:///{tmp}/ingest-{size}.db")]
            if pg_url:
                targets.append(("postgresql", pg_url))
            for name, url in targets:
                if name == "postgresql":
                    _reset_pg(url)
                seconds, read, peak = run_ingest(url, reference_dir, records)
                print(f"ingest_{name}_{size}: {read / seconds:.0f} records/s")
                print(f"ingest_{name}_{size}_peak_rss: {peak:.0f} MB")
            sys.stdout.flush()


def _reset_pg(url: str) -> None:
    from sqlalchemy import text

    from auditcage.storage.session import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    main()
