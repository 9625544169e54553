"""PUT /api/v1/reference/<dataset>: an administrator replaces one dataset atomically."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.db

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PROVINCE = {
    "unit_code": "520000000000",
    "parent_code": None,
    "level": "province",
    "name": "贵州省公安厅交通管理局",
    "province_code": "52",
}
BRIGADE = {
    "unit_code": "520102000000",
    "parent_code": "520000000000",
    "level": "brigade",
    "name": "南明大队",
    "province_code": "52",
}


def test_an_administrator_replaces_a_dataset_and_gets_the_load(client) -> None:
    response = client.put("/api/v1/reference/units", json=[PROVINCE, BRIGADE], headers=ADMIN)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rows"] == 2 and response.get_json()["dataset"] == "units"


def test_a_csv_upload_is_accepted(client) -> None:
    body = (
        "unit_code,parent_code,level,name,province_code\n"
        "520000000000,,province,贵州省公安厅交通管理局,52\n"
    ).encode()
    response = client.put(
        "/api/v1/reference/units", data=body, headers={**ADMIN, "Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.get_json()


def test_an_invalid_row_refuses_the_whole_load_naming_line_and_field(client) -> None:
    client.put("/api/v1/reference/units", json=[PROVINCE], headers=ADMIN)
    broken = {**BRIGADE, "level": "galaxy"}
    response = client.put("/api/v1/reference/units", json=[PROVINCE, broken], headers=ADMIN)
    assert response.status_code == 422
    problems = " ".join(response.get_json()["problems"])
    assert "line 2" in problems and "level" in problems


def test_reference_upload_needs_the_administrator_token(client) -> None:
    assert client.put("/api/v1/reference/units", json=[PROVINCE]).status_code == 401
    source_key = {"Authorization": "Bearer key-violation-0123456789abcdef0123"}
    assert (
        client.put("/api/v1/reference/units", json=[PROVINCE], headers=source_key).status_code
        == 403
    )


def test_an_unknown_dataset_is_404(client) -> None:
    assert client.put("/api/v1/reference/planets", json=[], headers=ADMIN).status_code == 404


def test_an_empty_upload_does_not_empty_a_dataset_unless_the_request_says_so(client) -> None:
    first = client.put("/api/v1/reference/units", json=[PROVINCE, BRIGADE], headers=ADMIN)
    for empty in ({"json": []}, {"data": b"", "content_type": "application/x-ndjson"}):
        refused = client.put("/api/v1/reference/units", headers=ADMIN, **empty)
        assert refused.status_code == 400, refused.get_json()
        assert "allow_empty=true" in str(refused.get_json())
    kept = client.put("/api/v1/reference/units", json=[PROVINCE, BRIGADE], headers=ADMIN)
    assert kept.get_json()["id"] == first.get_json()["id"] + 1, "the refused made no load"
    emptied = client.put("/api/v1/reference/units?allow_empty=true", json=[], headers=ADMIN)
    assert emptied.status_code == 200 and emptied.get_json()["rows"] == 0
