"""Record files (catalogue §7.1) read as streams of (line, record) without loading them whole.

NDJSON is canonical. CSV and XLSX carry the same records flattened: dotted column names for nested
fields, lists and objects as JSON text in one cell, an empty cell = null. Every reader yields
`(position, payload)` where position is the 1-based line (CSV: the header is line 1; XLSX: the
sheet row) and payload is a dict, or an `UnreadableLine` when the line is not a JSON object.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import orjson

from auditcage.errors import InvalidInput


@dataclass(frozen=True)
class UnreadableLine:
    text: str
    reason: str


Item = tuple[int, "dict[str, Any] | UnreadableLine | Any"]

FORMATS = {
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "ndjson",
    ".csv": "csv",
    ".xlsx": "xlsx",
}


def file_format(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise InvalidInput(
            f"{path}: unknown record file type {path.suffix!r}; use .ndjson, .jsonl, .csv or .xlsx"
        ) from None


def read_records(path: Path) -> Iterator[Item]:
    """Every record of a file, in file order, as (line, payload)."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    kind = file_format(path)
    if kind == "ndjson":
        return read_ndjson(path)
    if kind == "csv":
        return read_csv(path)
    return read_xlsx(path)


def read_ndjson(path: Path) -> Iterator[Item]:
    with path.open("rb") as stream:
        yield from parse_ndjson_lines(stream)


def parse_ndjson_lines(lines: Any) -> Iterator[Item]:
    """NDJSON from an iterable of byte lines; blank lines are skipped, bad ones reported."""
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield line_no, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            yield line_no, UnreadableLine(text=text[:10_000], reason=f"not valid JSON: {exc}")


def read_csv(path: Path) -> Iterator[Item]:
    with path.open(newline="", encoding="utf-8-sig") as stream:
        yield from parse_csv(stream)


def parse_csv(stream: io.TextIOBase | Any) -> Iterator[Item]:
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        return
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        yield reader.line_num, unflatten(header, cells)


def read_xlsx(path: Path) -> Iterator[Item]:
    from openpyxl import load_workbook  # heavy import, only for spreadsheets

    # read_only streams rows instead of building the whole sheet in memory.
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            return
        header = [str(h) if h is not None else "" for h in header_row]
        for row_no, row in enumerate(rows, start=2):
            cells = [_cell_text(v) for v in row]
            if not any(c.strip() for c in cells):
                continue
            yield row_no, unflatten(header, cells)
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV would hold, so both flattened formats load alike."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def unflatten(header: list[str], cells: list[str]) -> dict[str, Any]:
    """Dotted columns → nested objects; JSON text cells → lists/objects; empty cell → null."""
    record: dict[str, Any] = {}
    for name, cell in zip(header, cells, strict=False):
        if not name:
            continue
        value = _cell_value(cell)
        if value is None:
            continue  # an empty cell is null: leave the field out, as NDJSON would
        target = record
        *parents, leaf = name.split(".")
        for part in parents:
            existing = target.get(part)
            if not isinstance(existing, dict):
                existing = target[part] = {}
            target = existing
        target[leaf] = value
    return record


def _cell_value(cell: str) -> Any:
    if cell == "":
        return None
    if cell[0] in "[{":
        try:
            parsed = orjson.loads(cell)
        except orjson.JSONDecodeError:
            return cell
        if isinstance(parsed, list | dict):
            return parsed
    return cell


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The inverse of unflatten, for writing CSV/XLSX: nested objects become dotted columns."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list | dict):
            flat[name] = orjson.dumps(value).decode()
        elif value is None:
            flat[name] = ""
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        else:
            flat[name] = value
    return flat
