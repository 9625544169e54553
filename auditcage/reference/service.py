"""Validating, loading and reading reference data (catalogue §7.2).

- A dataset is loaded whole: every row is validated first, and one bad row refuses the load with
  every problem listed; nothing changes then.
- A load replaces its dataset atomically inside the caller's transaction (services never commit)
  and is kept in the history (`ReferenceLoad`).
- Policy datasets (R6, R7, R16, the default calendar) ship under `rules/reference/`; a file of the
  same dataset in a loaded directory replaces the shipped one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from marshmallow import ValidationError
from sqlalchemy import Text, cast, insert, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.config import DEFAULT_RULES_DIR
from auditcage.errors import InvalidInput, NotFound, ReferenceDataError
from auditcage.reference.datasets import DATASETS, Dataset, key_of
from auditcage.reference.files import UnreadableRow, dataset_name, read_rows
from auditcage.reference.index import ReferenceIndex, as_instant
from auditcage.reference.models import ReferenceDataset, ReferenceLoad, ReferenceRow
from auditcage.reference.schemas import SCHEMAS, Problem, check_rows, problems_of

MAX_PROBLEMS = 200  # listed per refused dataset; the count of the rest is added as one more line
INSERT_CHUNK = 5000
_OPEN = datetime(1900, 1, 1, tzinfo=clock.SHANGHAI)  # never used: as_instant only sees non-null

NumberedRows = Iterable[tuple[int, Mapping[str, Any] | UnreadableRow]]


def shipped_dir() -> Path:
    """Where the policy tables that ship with the project live."""
    return DEFAULT_RULES_DIR / "reference"


# --- validation ---------------------------------------------------------------------------------


def validate_rows(dataset: str, rows: NumberedRows) -> list[dict[str, Any]]:
    """The cleaned rows of `dataset` (JSON-ready), or ReferenceDataError listing every problem."""
    spec = _spec(dataset)
    schema = SCHEMAS[spec.name]()
    numbered: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    for line, raw in rows:
        if isinstance(raw, UnreadableRow):
            problems.append(Problem(spec.name, line, None, raw.reason))
            continue
        if not isinstance(raw, Mapping):
            problems.append(Problem(spec.name, line, None, "expected an object"))
            continue
        try:
            numbered.append((line, schema.load(raw)))
        except ValidationError as exc:
            problems += problems_of(spec.name, line, exc)
    if not problems:
        problems = check_rows(spec, numbered)
    if problems:
        raise ReferenceDataError(spec.name, _listed(problems))
    return [row for _, row in numbered]


def _listed(problems: list[Problem]) -> list[str]:
    shown = [str(p) for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"… and {len(problems) - MAX_PROBLEMS} more problems not listed")
    return shown


def checksum(rows: Iterable[Mapping[str, Any]]) -> str:
    """sha256 of the canonical content: each row as sorted-key JSON, lines sorted (order-free)."""
    lines = sorted(orjson.dumps(row, option=orjson.OPT_SORT_KEYS) for row in rows)
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


# --- loading ------------------------------------------------------------------------------------


def replace_dataset(
    session: Session,
    dataset: str,
    rows: Iterable[Mapping[str, Any]] | NumberedRows,
    *,
    source: str,
    actor: str,
) -> ReferenceLoad:
    """Validate `rows` and make them the dataset's current rows, or refuse and change nothing.

    `rows` are raw rows (numbered 1, 2, … in problems) or (line, row) pairs read from a file.
    """
    cleaned = validate_rows(dataset, _numbered(rows))
    return _store(session, _spec(dataset), cleaned, source=source, actor=actor)


def load_directory(
    session: Session, path: str | os.PathLike[str], *, actor: str, include_shipped: bool = True
) -> list[ReferenceLoad]:
    """Load every dataset file of a directory (and the shipped policy tables it does not replace).

    Every file is validated before anything is stored, so one invalid file refuses them all.
    A dataset without a file is left as it is. Unknown file names are refused, not skipped.
    """
    return _load_files(session, directory_files(path, include_shipped=include_shipped), actor)


def load_shipped(session: Session, *, actor: str) -> list[ReferenceLoad]:
    """Load the shipped policy tables (`auditcage demo`, first start)."""
    return _load_files(session, _shipped_files(), actor)


def _load_files(session: Session, files: dict[str, Path], actor: str) -> list[ReferenceLoad]:
    validated = _validate_files(files)
    return [
        _store(session, DATASETS[name], rows, source=str(files[name]), actor=actor)
        for name, rows in validated.items()
    ]


def _store(
    session: Session, spec: Dataset, rows: list[dict[str, Any]], *, source: str, actor: str
) -> ReferenceLoad:
    current = session.get(ReferenceDataset, spec.name, with_for_update=True)
    load = ReferenceLoad(
        dataset=spec.name,
        source=source,
        actor=actor,
        rows=len(rows),
        loaded_at=clock.now(),
        checksum=checksum(rows),
        replaced_load_id=current.current_load_id if current else None,
    )
    session.add(load)
    session.flush()
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        session.execute(
            insert(ReferenceRow.__table__), [_row_values(spec, load.id, row) for row in chunk]
        )
    if current is None:
        session.add(ReferenceDataset(name=spec.name, current_load_id=load.id))
    else:
        current.current_load_id = load.id
    session.flush()
    return load


def _row_values(spec: Dataset, load_id: int, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "load_id": load_id,
        "dataset": spec.name,
        "key": key_of(spec, row) or "",
        "effective_from": _bound(row.get("effective_from")),
        "effective_to": _bound(row.get("effective_to")),
        "data": row,
    }


def _bound(value: Any) -> datetime | None:
    return None if value is None else as_instant(value, default=_OPEN)


# --- reading ------------------------------------------------------------------------------------


def build_index(session: Session) -> ReferenceIndex:
    """The current rows of every loaded dataset as an in-memory index."""
    names = session.scalars(select(ReferenceDataset.name)).all()
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in names if name in DATASETS}
    # The JSON arrives as text and orjson parses it: twice as fast as the JSON type's json.loads.
    query = (
        select(ReferenceRow.dataset, cast(ReferenceRow.data, Text))
        .join(ReferenceDataset, ReferenceDataset.current_load_id == ReferenceRow.load_id)
        .order_by(ReferenceRow.id)
    )
    for name, data in session.execute(query):
        if name in rows:
            rows[name].append(orjson.loads(data))
    return ReferenceIndex(rows)


def index_from_directory(
    path: str | os.PathLike[str], *, include_shipped: bool = True
) -> ReferenceIndex:
    """The same validated view as build_index, straight from files (`auditcage replay`)."""
    return ReferenceIndex(_validate_files(directory_files(path, include_shipped=include_shipped)))


def current_loads(session: Session) -> list[ReferenceLoad]:
    """The current load of every dataset, by dataset name."""
    query = (
        select(ReferenceLoad)
        .join(ReferenceDataset, ReferenceDataset.current_load_id == ReferenceLoad.id)
        .order_by(ReferenceLoad.dataset)
    )
    return list(session.scalars(query))


def load_history(session: Session, dataset: str) -> list[ReferenceLoad]:
    """Every load of `dataset`, newest first."""
    spec = _spec(dataset)
    query = (
        select(ReferenceLoad)
        .where(ReferenceLoad.dataset == spec.name)
        .order_by(ReferenceLoad.id.desc())
    )
    return list(session.scalars(query))


# --- files --------------------------------------------------------------------------------------


def directory_files(
    path: str | os.PathLike[str], *, include_shipped: bool = True
) -> dict[str, Path]:
    """Dataset name → file to load, in DATASETS order; the shipped policy files fill the gaps."""
    files = _dataset_files(Path(path))
    if include_shipped:
        for name, file in _shipped_files().items():
            files.setdefault(name, file)
    return {name: files[name] for name in DATASETS if name in files}


def _shipped_files() -> dict[str, Path]:
    directory = shipped_dir()
    if not directory.is_dir():
        return {}
    found = {}
    for file in sorted(directory.iterdir()):
        name = dataset_name(file)
        if name in DATASETS and DATASETS[name].policy and file.is_file():
            found[name] = file
    return found


def _dataset_files(directory: Path) -> dict[str, Path]:
    if not directory.is_dir():
        raise InvalidInput(f"reference directory {str(directory)!r} does not exist")
    found: dict[str, Path] = {}
    unknown, twice = [], []
    for file in sorted(directory.iterdir()):
        if file.name.startswith(".") or (file.is_file() and file.name.upper().startswith("README")):
            continue  # hidden files and a README are not data
        name = dataset_name(file) if file.is_file() else None
        if name not in DATASETS:
            unknown.append(file.name)
        elif name in found:
            twice.append(f"{found[name].name} and {file.name}")
        else:
            found[name] = file
    if unknown or twice:
        raise InvalidInput(_directory_problem(directory, unknown, twice))
    return found


def _directory_problem(directory: Path, unknown: list[str], twice: list[str]) -> str:
    parts = []
    if unknown:
        parts.append(
            f"unknown files {', '.join(unknown)} (a dataset file is <dataset>.jsonl or "
            f"<dataset>.csv; datasets: {', '.join(DATASETS)})"
        )
    if twice:
        parts.append(f"one dataset in two files: {'; '.join(twice)}")
    return f"reference directory {str(directory)!r}: " + "; ".join(parts)


def _validate_files(files: dict[str, Path]) -> dict[str, list[dict[str, Any]]]:
    """Every file validated; all their problems in one ReferenceDataError when any fails."""
    validated: dict[str, list[dict[str, Any]]] = {}
    refused: list[ReferenceDataError] = []
    for name, file in files.items():
        try:
            validated[name] = validate_rows(name, read_rows(file))
        except ReferenceDataError as exc:
            refused.append(exc)
    if len(refused) == 1:
        raise refused[0]
    if refused:
        names = ", ".join(exc.dataset for exc in refused)
        raise ReferenceDataError(names, [p for exc in refused for p in exc.problems])
    return validated


def _numbered(rows: Iterable[Any]) -> NumberedRows:
    for position, item in enumerate(rows, start=1):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], int):
            yield item
        else:
            yield position, item


def _spec(dataset: str) -> Dataset:
    spec = DATASETS.get(dataset)
    if spec is None:
        raise NotFound(f"unknown reference dataset {dataset!r}; known: {', '.join(DATASETS)}")
    return spec
