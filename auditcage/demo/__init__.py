"""A deterministic synthetic province (黔, 52) for `auditcage demo`, tests and benchmarks.

    province = generate(seed=7, start=date(2026, 8, 1), months=3, records_target=20_000)
    province.reference            # the §7.2 datasets
    province.iter_records()       # a stream of raw §1 records, event-time order per day
    write_scenario(province, out) # reference/, records.ndjson, planted.jsonl

The generator never reads `rules/`: its planted cases follow the catalogue's definitions, so tests
that detect them do not agree with the rules by construction.
"""

from __future__ import annotations

from auditcage.demo.plants import PLANTS, PlantedCase
from auditcage.demo.scenario import Province, generate
from auditcage.demo.writer import write_scenario

__all__ = ["PLANTS", "PlantedCase", "Province", "generate", "write_scenario"]
