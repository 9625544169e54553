"""Reading reference dataset files (catalogue §7.2) as streams of numbered raw rows.

A file yields `(line, row)` pairs one at a time, so a large master snapshot is never held as text.
`line` is the 1-based line the row starts on (the CSV header is line 1). A line that cannot be
read as a row yields an `UnreadableRow` with the reason instead of stopping the file, so that
validation can report every problem at once.

Cells stay as they are here: CSV gives text, and turning JSON-text cells, numbers and booleans
into values is the schema's job (`auditcage.reference.schemas`), the one place that does it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import orjson

NDJSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv",)
SUFFIXES = NDJSON_SUFFIXES + CSV_SUFFIXES

# A CSV cell may hold a long JSON list (ip ranges, registered drivers); the default is 128 KiB.
csv.field_size_limit(16 * 1024 * 1024)


@dataclass(frozen=True)
class UnreadableRow:
    """A line that is not a row at all (not JSON, not an object, wrong number of cells)."""

    reason: str


RawRow = dict[str, Any] | UnreadableRow


def dataset_name(path: Path) -> str | None:
    """The dataset a file holds by its name (`units.csv` → "units"), or None for another suffix."""
    return path.stem if path.suffix in SUFFIXES else None


def read_rows(path: Path) -> Iterator[tuple[int, RawRow]]:
    """The rows of one dataset file, NDJSON (`.jsonl`, `.ndjson`, `.json`) or CSV."""
    if path.suffix in CSV_SUFFIXES:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            yield from parse_csv_rows(stream)
    else:
        with path.open("rb") as stream:
            yield from parse_ndjson_rows(stream)


def parse_ndjson_rows(lines: Iterable[bytes | str]) -> Iterator[tuple[int, RawRow]]:
    """One JSON object per line; blank lines are skipped but counted."""
    for line_no, line in enumerate(lines, start=1):
        if line_no == 1:
            line = line.removeprefix(b"\xef\xbb\xbf" if isinstance(line, bytes) else "\ufeff")
        if not line.strip():
            continue
        if line_no == 1 and line.lstrip()[:1] in (b"[", "["):
            yield line_no, UnreadableRow("the file is a JSON array; write one JSON object per line")
            return
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield line_no, UnreadableRow(f"not valid JSON ({exc})")
            continue
        if not isinstance(value, dict):
            yield line_no, UnreadableRow(f"expected a JSON object, got {type(value).__name__}")
            continue
        yield line_no, value


def parse_csv_rows(stream: TextIO) -> Iterator[tuple[int, RawRow]]:
    """A CSV with a header line; an empty cell is None; rows of empty cells only are skipped."""
    reader = csv.reader(stream)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        return
    except UnicodeDecodeError:
        yield 1, UnreadableRow("not UTF-8 text; save the file as UTF-8")
        return
    problem = _header_problem(header)
    if problem:
        yield 1, UnreadableRow(problem)
        return
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            yield start, UnreadableRow("not UTF-8 text; save the file as UTF-8")
            return
        except csv.Error as exc:
            yield start, UnreadableRow(f"not valid CSV ({exc})")
            return
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            yield (
                start,
                UnreadableRow(f"{len(cells)} cells but the header has {len(header)} columns"),
            )
            continue
        cells += [""] * (len(header) - len(cells))
        yield (
            start,
            {
                name: (cell if cell != "" else None)
                for name, cell in zip(header, cells, strict=True)
            },
        )


def _header_problem(header: list[str]) -> str | None:
    if any(not name for name in header):
        return "the header has an empty column name"
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        return f"the header names {', '.join(duplicates)} more than once"
    return None
