"""/api/v1/recruiters: validation a person can act on, one active owner per line and mobile."""

import asyncio
from typing import Any

import httpx
import pytest

from app.models import Obligation, Recruiter
from tests.support.databases import TestDatabase
from tests.support.factories import make_obligation, make_recruiter

ALICE = {"name": "Alice", "mobile": "07700 900001", "line": "+15005550006"}


async def create(api: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    return await api.post("/api/v1/recruiters", json=ALICE | fields)


def field_error(response: httpx.Response) -> tuple[list[str], str]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error"
    return body["detail"][0]["loc"], body["detail"][0]["msg"]


async def test_a_recruiter_is_created_with_numbers_in_e164_and_defaults(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    response = await create(api)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/recruiters/{body['id']}"
    assert (body["mobile"], body["line"], body["timezone"]) == (
        "+447700900001",
        "+15005550006",
        "UTC",
    )
    assert (body["active"], body["working_hours"], body["sms_blocked_at"]) == (True, None, None)
    assert body["sms_error_code"] is None
    assert db.one(Recruiter).mobile == "+447700900001"


async def test_every_field_can_be_given(api: httpx.AsyncClient) -> None:
    hours = {"mon": [["09:00", "17:30"]], "fri": [["13:00", "24:00"], ["08:00", "12:00"]]}
    response = await create(
        api,
        timezone="Europe/London",
        working_hours=hours,
        escalation_number="+447700900999",
        client_identity="alice.w",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["working_hours"] == {
        "mon": [["09:00", "17:30"]],
        "fri": [["08:00", "12:00"], ["13:00", "24:00"]],
    }
    assert (body["timezone"], body["escalation_number"], body["client_identity"]) == (
        "Europe/London",
        "+447700900999",
        "alice.w",
    )


@pytest.mark.parametrize(
    ("fields", "field", "hint"),
    [
        ({"mobile": "12"}, "mobile", "E.164"),
        ({"line": "anonymous"}, "line", "phone number"),
        ({"mobile": "+15005550006"}, "line", "different"),
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA"),
        ({"timezone": "localtime"}, "timezone", "IANA"),
        ({"working_hours": {"mon": [["17:00", "09:00"]]}}, "working_hours", "ends before"),
        (
            {"working_hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}},
            "working_hours",
            "overlap",
        ),
        ({"working_hours": {}}, "working_hours", "null for always"),
        ({"escalation_number": "call me"}, "escalation_number", "phone number"),
        ({"name": "   "}, "name", "1-200"),
    ],
)
async def test_bad_fields_are_refused_naming_the_field(
    api: httpx.AsyncClient, db: TestDatabase, fields: dict[str, Any], field: str, hint: str
) -> None:
    loc, message = field_error(await create(api, **fields))
    assert loc == ["body", field]
    assert hint in message
    assert db.count(Recruiter) == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"client_identity": "client:alice"},
        {"client_identity": "alice@example.com"},
        {"working_hours": {"monday": [["09:00", "17:00"]]}},
        {"working_hours": {"mon": [["9am", "5pm"]]}},
        {"colour": "blue"},
    ],
)
async def test_malformed_fields_are_refused_by_the_schema(
    api: httpx.AsyncClient, fields: dict[str, Any]
) -> None:
    loc, _ = field_error(await create(api, **fields))
    assert loc[0] == "body"


async def test_a_line_or_mobile_of_another_active_recruiter_is_a_conflict(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    first = (await create(api)).json()
    same_line = await create(api, mobile="+447700900002")
    assert same_line.status_code == 409
    assert same_line.json() == {
        "error": "conflict",
        "detail": f"line +15005550006 already belongs to active recruiter {first['id']} (Alice)",
    }
    same_mobile = await create(api, line="+15005550007")
    assert same_mobile.status_code == 409
    assert "mobile +447700900001" in same_mobile.json()["detail"]
    assert db.count(Recruiter) == 1


async def test_a_line_that_is_another_recruiters_mobile_is_a_conflict(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    first = (await create(api)).json()
    crossed = await create(api, mobile="+447700900002", line=first["mobile"])
    assert crossed.status_code == 409
    assert crossed.json()["detail"] == (
        f"line +447700900001 is the mobile of active recruiter {first['id']} (Alice)"
    )
    assert db.count(Recruiter) == 1


async def test_a_mobile_that_is_another_recruiters_line_is_a_conflict(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    first = (await create(api)).json()
    crossed = await create(api, mobile=first["line"], line="+15005550007")
    assert crossed.status_code == 409
    assert crossed.json()["detail"] == (
        f"mobile +15005550006 is the line of active recruiter {first['id']} (Alice)"
    )
    bea = make_recruiter(db, mobile="+447700900002", line="+15005550007")
    changed = await api.patch(f"/api/v1/recruiters/{bea.id}", json={"mobile": first["line"]})
    assert changed.status_code == 409
    assert db.one(Recruiter, Recruiter.id == bea.id).mobile == "+447700900002"


async def test_numbers_crossed_with_a_deactivated_recruiters_are_free(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    make_recruiter(db, mobile="+15005550006", line="+447700900001", active=False)
    assert (await create(api)).status_code == 201


async def test_a_null_timezone_is_the_default_zone_on_creation_and_change(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    created = await create(api, timezone=None)
    assert (created.status_code, created.json()["timezone"]) == (201, "UTC")
    url = f"/api/v1/recruiters/{created.json()['id']}"
    assert (await api.patch(url, json={"timezone": "Europe/Paris"})).json()["timezone"] == (
        "Europe/Paris"
    )
    reset = await api.patch(url, json={"timezone": None})
    assert (reset.status_code, reset.json()["timezone"]) == (200, "UTC")
    assert db.one(Recruiter).timezone == "UTC"


async def test_a_softphone_identity_is_unique_among_active_recruiters(
    api: httpx.AsyncClient,
) -> None:
    assert (await create(api, client_identity="alice")).status_code == 201
    other = await create(api, mobile="+447700900002", line="+15005550007", client_identity="alice")
    assert other.status_code == 409
    assert "client_identity alice" in other.json()["detail"]


async def test_a_deactivated_recruiters_numbers_can_be_given_to_someone_new(
    api: httpx.AsyncClient,
) -> None:
    first = (await create(api)).json()
    assert (await api.delete(f"/api/v1/recruiters/{first['id']}")).status_code == 204
    assert (await create(api, name="Bea")).status_code == 201


async def test_list_shows_active_recruiters_unless_asked_for_all(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    kept, gone = make_recruiter(db), make_recruiter(db, active=False)
    listed = (await api.get("/api/v1/recruiters")).json()["items"]
    assert [r["id"] for r in listed] == [kept.id]
    everyone = (await api.get("/api/v1/recruiters?include_inactive=true")).json()["items"]
    assert [(r["id"], r["active"]) for r in everyone] == [(kept.id, True), (gone.id, False)]


async def test_one_recruiter_is_read_by_id(api: httpx.AsyncClient, db: TestDatabase) -> None:
    recruiter = make_recruiter(db, sms_error_code=21610)
    body = (await api.get(f"/api/v1/recruiters/{recruiter.id}")).json()
    assert (body["id"], body["line"], body["sms_error_code"]) == (
        recruiter.id,
        recruiter.line,
        21610,
    )
    missing = await api.get("/api/v1/recruiters/999")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")


async def test_patch_changes_only_the_fields_sent(api: httpx.AsyncClient, db: TestDatabase) -> None:
    recruiter = make_recruiter(db, escalation_number="+447700900999")
    response = await api.patch(
        f"/api/v1/recruiters/{recruiter.id}",
        json={"timezone": "Europe/Paris", "escalation_number": None, "mobile": "07700 900555"},
    )
    assert response.status_code == 200, response.text
    stored = db.one(Recruiter)
    assert (stored.timezone, stored.escalation_number, stored.mobile) == (
        "Europe/Paris",
        None,
        "+447700900555",
    )
    assert (stored.name, stored.line) == (recruiter.name, recruiter.line)


async def test_patch_checks_fields_as_creation_does(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    recruiter, other = make_recruiter(db), make_recruiter(db)
    url = f"/api/v1/recruiters/{recruiter.id}"
    assert field_error(await api.patch(url, json={"name": None}))[0] == ["body", "name"]
    assert field_error(await api.patch(url, json={"timezone": "Nowhere"}))[0] == [
        "body",
        "timezone",
    ]
    clash = await api.patch(url, json={"line": other.line})
    assert clash.status_code == 409
    assert db.all(Recruiter)[0].line == recruiter.line


async def test_deactivating_stops_the_recruiter_but_keeps_their_obligations(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    db.add(make_obligation(recruiter))
    url = f"/api/v1/recruiters/{recruiter.id}"
    response = await api.delete(url)
    assert (response.status_code, response.content) == (204, b"")
    assert db.one(Recruiter).active is False
    assert (await api.get(url)).status_code == 404
    assert (await api.patch(url, json={"name": "Back"})).status_code == 404
    assert (await api.delete(url)).status_code == 404
    listed = (await api.get(f"/api/v1/obligations?recruiter_id={recruiter.id}")).json()["items"]
    assert [o["status"] for o in listed] == ["open"]
    assert db.one(Obligation).status == "open"


async def test_two_requests_racing_for_one_line_get_one_recruiter(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    answers = await asyncio.gather(
        create(api, mobile="+447700900011"), create(api, mobile="+447700900012")
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert db.count(Recruiter) == 1
