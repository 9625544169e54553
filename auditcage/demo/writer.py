"""Write a scenario to disk: `reference/<dataset>.jsonl`, `records.ndjson` and `planted.jsonl`."""

from __future__ import annotations

from pathlib import Path

import orjson

from auditcage.demo.reference import DATASETS
from auditcage.demo.scenario import Province

_OPTS = orjson.OPT_APPEND_NEWLINE


def write_scenario(province: Province, out_dir: Path) -> tuple[Path, Path]:
    """One pass over the records, streamed to disk; the ledgers they produce complete the
    reference."""
    out_dir = Path(out_dir)
    reference_dir = out_dir / "reference"
    reference_dir.mkdir(parents=True, exist_ok=True)
    records_path = out_dir / "records.ndjson"
    run = province.new_run()
    with records_path.open("wb") as fh:
        buffer: list[bytes] = []
        for rec in province.run_records(run):
            buffer.append(orjson.dumps(rec, option=_OPTS))
            if len(buffer) >= 2000:
                fh.write(b"".join(buffer))
                buffer.clear()
        fh.write(b"".join(buffer))
    reference = province.reference_from(run)
    for name in DATASETS:
        with (reference_dir / f"{name}.jsonl").open("wb") as fh:
            fh.write(b"".join(orjson.dumps(row, option=_OPTS) for row in reference[name]))
    with (out_dir / "planted.jsonl").open("wb") as fh:
        fh.write(b"".join(orjson.dumps(case.as_json(), option=_OPTS) for case in province.planted))
    return reference_dir, records_path
