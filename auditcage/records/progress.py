"""Record files read with a progress bar on a terminal (bytes of the file read so far)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from auditcage.records.readers import Item, file_format, parse_csv, parse_ndjson_lines, read_records


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes handed out, so a stream parser can report progress."""

    def __init__(self, raw: io.BufferedReader, on_read: Any) -> None:
        self._raw = raw
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._raw.readinto(buffer)
        if count:
            self._on_read(count)
        return count or 0


@contextmanager
def tracked_records(path: Path, *, show: bool) -> Iterator[Iterator[Item]]:
    """read_records(path), drawing a progress bar on stderr when `show` (a terminal)."""
    kind = file_format(path)
    if not show or kind == "xlsx":
        yield read_records(path)
        return
    size = path.stat().st_size
    with (
        click.progressbar(
            length=size, label=path.name, file=click.get_text_stream("stderr")
        ) as bar,
        path.open("rb") as raw,
    ):
        counted = io.BufferedReader(_CountingReader(raw, bar.update))
        if kind == "ndjson":
            yield parse_ndjson_lines(counted)
        else:
            yield parse_csv(io.TextIOWrapper(counted, encoding="utf-8-sig", newline=""))
