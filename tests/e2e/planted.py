"""Judge a hits file against the planted cases of a generated scenario.

A positive passes when a hit of its catalogue id touches one of its records at the planted
severity; a near miss passes when no hit of its catalogue id touches any of its records.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditcage.demo.plants import PlantedCase
from auditcage.demo.scenario import Province
from auditcage.demo.writer import write_scenario


@dataclass(frozen=True)
class Verdict:
    case: PlantedCase
    passed: bool
    why: str

    def __str__(self) -> str:
        kind = "positive" if self.case.fires else "near miss"
        mark = "ok  " if self.passed else "FAIL"
        return f"{mark} {self.case.catalogue_id:<7} {kind:<9} {self.why} — {self.case.note}"


def judge(
    cases: Iterable[PlantedCase], hits: list[dict[str, Any]], written: set[str] | None = None
) -> list[Verdict]:
    """`written`: the record ids of the scenario file; a case whose records are not all in it
    proves nothing (a near miss would pass by having no records) and fails."""
    by_record: dict[str, list[dict[str, Any]]] = {}
    for hit in hits:
        for record_id in hit["record_ids"]:
            by_record.setdefault(record_id, []).append(hit)
    verdicts = []
    for case in cases:
        if case.catalogue_id == "QUARANTINE":
            continue
        missing = [r for r in case.record_ids if written is not None and r not in written]
        if not case.record_ids or missing:
            verdicts.append(Verdict(case, False, f"records not in the scenario: {missing}"))
            continue
        touching = {
            hit["id"]: hit
            for record_id in case.record_ids
            for hit in by_record.get(record_id, [])
            if hit["rule_id"] == case.catalogue_id and not hit.get("shadow")
        }
        severities = sorted({hit["severity"] for hit in touching.values()})
        others = sorted(
            {h["rule_id"] for r in case.record_ids for h in by_record.get(r, [])}
            - {case.catalogue_id}
        )
        if case.fires:
            passed = case.severity in severities
            why = (
                f"fired {severities} (want {case.severity})"
                if touching
                else f"did not fire (others: {others})"
            )
        else:
            passed = not touching
            why = "quiet" if passed else f"fired {severities}"
        verdicts.append(Verdict(case, passed, why))
    return verdicts


def replay_province(province: Province, out_dir: Path) -> tuple[list[dict[str, Any]], set[str]]:
    """Write the scenario and run `auditcage replay` on it as a user would; return the hits
    and the record ids written."""
    reference_dir, records_path = write_scenario(province, out_dir)
    hits_path = out_dir / "hits.ndjson"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "auditcage",
            "replay",
            str(records_path),
            "--reference",
            str(reference_dir),
            "--hits",
            str(hits_path),
        ],
        check=True,
        capture_output=True,
    )
    hits = [json.loads(line) for line in hits_path.read_text().splitlines() if line]
    written = {
        json.loads(line)["record_id"]
        for line in records_path.read_text(encoding="utf-8").splitlines()
        if line
    }
    return hits, written
