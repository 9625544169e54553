"""All benchmarks, printed as `name: value unit` lines, on the same generated data: every script
generates the scenario of bench.ingest.make_scenario at the same size and seed, so `limit`,
`peer_durable`, `peer_duckdb`, `worker`, `intake_api` and `replay` see the same records
(`precheck` a smaller one of the same generator); `load` (issue 8) pushes records through
intake while chiefs and inspectors use the console. The defaults aim at 15 minutes on a 2-core
machine; `--full` adds the ingest growth figures to 1 000 000 records and replay growth from
20 000 to 1 000 000 records (hours on this machine). The last lines compare the worker with the
naive durable_rules peer.

    python bench/run.py [--full]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# One scenario size for every default figure (about 23 000 records): the figures are rates, and
# at 30 000 the whole run took 19 minutes on the 2-core machine, past its 15-minute budget.
SIZE = "20000"
FIGURE = re.compile(r"^(\w+): ([-\d.]+) (.*)$")


def _run(figures: dict[str, float], script: str, *args: str) -> None:
    started = time.perf_counter()
    print(f"== {script} {' '.join(args)}", flush=True)
    child = subprocess.Popen(
        [sys.executable, str(ROOT / script), *args], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    for line in child.stdout:
        print(line, end="", flush=True)
        if match := FIGURE.match(line.strip()):
            figures[match[1]] = float(match[2])
    if child.wait() != 0:
        raise SystemExit(f"{script} failed with exit code {child.returncode}")
    print(f"{script.removesuffix('.py')}_wall: {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    figures: dict[str, float] = {}
    if args.full:
        _run(figures, "ingest.py", "--full", "--sizes", "100000,300000")
        _run(figures, "engine.py", "--sizes", f"{SIZE},100000,300000,1000000")
    else:
        _run(figures, "ingest.py", "--sizes", f"10000,{SIZE}")
        _run(figures, "engine.py", "--sizes", SIZE)
    _run(figures, "peers.py", "--records", SIZE)
    _run(figures, "intake_api.py", "--records", SIZE)
    # The pre-check's state (every stored record inside the rules' horizon) is rebuilt in the
    # gunicorn arbiter before the workers fork (api.gunicorn_conf), so no worker timeout bounds it.
    _run(figures, "precheck.py", "--records", SIZE, "--rate", "200", "--seconds", "60")
    _run(figures, "load.py", "--rate", "40", "--seconds", "45")  # issue 8: intake + console
    peer = figures.get("peer_durable")
    for name in ("worker_sqlite", "worker_pg"):
        if peer and name in figures:
            print(f"{name}_vs_peer_durable: {figures[name] / peer:.2f} x (target >= 2)")
    print(f"bench_wall: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
