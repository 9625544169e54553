"""All benchmarks, printed as `name: value unit` lines: ingest (SQLite and PostgreSQL, two sizes,
flat memory), the engine (replay and the worker) and the pre-check under load. The defaults
finish within 15 minutes on a 2-core machine; `--full` adds the 1 000 000-record ingest growth
figures and a larger engine run. The intake API runs under gunicorn with loopback clients.

    python bench/run.py [--full]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _run(script: str, *args: str) -> None:
    started = time.perf_counter()
    print(f"== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(ROOT / script), *args], check=True)
    print(f"{script.removesuffix('.py')}_wall: {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    if args.full:
        _run("ingest.py", "--full", "--sizes", "100000,300000")
        _run("engine.py", "--records", "300000")
    else:
        _run("ingest.py", "--sizes", "30000,90000")
        _run("engine.py", "--records", "30000")
    _run("intake_api.py", "--records", "30000")
    _run("precheck.py", "--records", "20000", "--rate", "200", "--seconds", "60")


if __name__ == "__main__":
    main()
