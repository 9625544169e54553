"""Every list page exports to Excel through this one function (pandas + openpyxl), audited."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from flask import Response, request

from api import db
from api.console.auth import user
from api.console.i18n import t
from auditcage import clock
from auditcage.audit import trail

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def wants_excel() -> bool:
    return request.args.get("format") == "xlsx"


def excel_response(
    name: str,
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
) -> Response:
    """rows → one sheet; columns are (key, message key of the header). Values as shown."""
    frame = pd.DataFrame([{key: row.get(key) for key, _ in columns} for row in rows])
    if frame.empty:
        frame = pd.DataFrame(columns=[key for key, _ in columns])
    for column in frame.columns:  # Excel has no time zones: local wall time, as on screen
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_localize(None)
    frame = frame.rename(columns={key: t(label) for key, label in columns})
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=name[:31])
    with db.transaction() as session:
        trail.record(
            session,
            actor=user().actor,
            action="console.export",
            detail={"list": name, "rows": len(frame), "query": request.query_string.decode()},
        )
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    return Response(
        buffer.getvalue(),
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.xlsx"'},
    )
