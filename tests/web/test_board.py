"""The board and one obligation's page: what ops see, and the actions the API also offers."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.models import Obligation, ObligationEvent, OutboxItem, Recruiter, Voicemail
from app.paging import Position, encode_cursor
from app.web.board import BOARD_OVERDUE, BOARD_REST, open_page
from tests.support.databases import TestDatabase, explain
from tests.support.factories import T0, make_call, make_obligation, make_recruiter
from tests.support.fake_twilio import FakeTwilio
from tests.web.conftest import ENV_TOKEN, post_form


def _voicemail(obligation: Obligation, sid: str, transcript: str | None) -> Voicemail:
    return Voicemail(
        recording_sid=sid,
        call_sid="CA" + sid[2:],
        obligation_id=obligation.id,
        recording_url=f"https://api.twilio.com/Recordings/{sid}",
        duration_seconds=12,
        transcript=transcript,
        created_at=T0,
        updated_at=T0,
    )


async def test_the_board_lists_open_obligations_oldest_first_with_what_ops_need(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    alice = make_recruiter(db, name="Alice Archer")
    newer = make_obligation(alice, caller="+447700900111", opened_at=T0 - timedelta(minutes=5))
    older = make_obligation(
        alice,
        caller="+447700900222",
        caller_name="Bob Caller",
        missed_calls=3,
        opened_at=T0 - timedelta(hours=2),
    )
    closed = make_obligation(alice, caller="+447700900333", status="closed", closed_at=T0)
    db.add(newer, older, closed)
    db.add(_voicemail(older, "RE" + "1" * 32, "Hi, about the Java role"))
    page = (await ops.get("/dashboard")).text
    assert page.index("Bob Caller") < page.index("+44 7700 900111")
    assert "+44 7700 900222" in page and "Alice Archer" in page
    assert "“Hi, about the Java role”" in page
    assert "2h" in page and "5m" in page
    assert "+44 7700 900333" not in page
    closed_page = (await ops.get("/dashboard?status=closed")).text
    assert "+44 7700 900333" in closed_page and "+44 7700 900111" not in closed_page


async def test_the_board_filters_by_recruiter_and_keeps_the_filter_when_polling(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    alice, bea = make_recruiter(db, name="Alice"), make_recruiter(db, name="Bea")
    db.add(make_obligation(alice, caller="+447700900111"), make_obligation(bea))
    page = (await ops.get(f"/dashboard?recruiter={bea.id}")).text
    assert "+44 7700 900123" in page and "+44 7700 900111" not in page
    assert f'hx-get="/dashboard/board?status=open&amp;recruiter={bea.id}"' in page
    assert 'hx-trigger="every 5s"' in page
    fragment = (await ops.get(f"/dashboard/board?status=open&recruiter={bea.id}")).text
    assert fragment.startswith('<section id="board"') and "+44 7700 900111" not in fragment


async def test_the_board_pages_by_keyset(ops: httpx.AsyncClient, db: TestDatabase) -> None:
    alice = make_recruiter(db)
    db.add(
        *[
            make_obligation(alice, caller=f"+4477009{n:05d}", opened_at=T0 - timedelta(hours=n))
            for n in range(1, 56)
        ]
    )
    first = (await ops.get("/dashboard")).text
    assert first.count('id="obligation-') == 50 and "+44 7700 900055" in first
    cursor = first.split("cursor=")[1].split('"')[0]
    second = (await ops.get(f"/dashboard?status=open&cursor={cursor}")).text
    assert second.count('id="obligation-') == 5 and "+44 7700 900005" in second


async def test_closing_from_the_board_writes_the_same_timeline_line_as_the_api(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    alice = make_recruiter(db)
    by_page, by_api = make_obligation(alice), make_obligation(alice, caller="+447700900999")
    db.add(by_page, by_api)
    answer = await post_form(
        ops, "/dashboard", f"/dashboard/obligations/{by_page.id}/close", {"back": "/dashboard"}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard?notice=closed"
    api = await ops.post(
        f"/api/v1/obligations/{by_api.id}/close", headers={"Authorization": f"Bearer {ENV_TOKEN}"}
    )
    assert api.status_code == 200
    lines = [
        (e.kind, e.actor, e.detail)
        for e in db.all(ObligationEvent, ObligationEvent.kind == "closed")
    ]
    assert lines == [("closed", "env-token-1", {"reason": "ops"})] * 2
    assert db.one(Obligation, Obligation.id == by_page.id).close_reason == "ops"


async def test_snooze_until_tomorrow_nine_is_in_the_recruiters_zone(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    alice = make_recruiter(db, timezone="America/New_York")
    obligation = make_obligation(alice, next_reminder_at=T0 + timedelta(minutes=2))
    db.add(obligation)
    answer = await post_form(
        ops, "/dashboard", f"/dashboard/obligations/{obligation.id}/snooze", {"until": "tomorrow"}
    )
    assert answer.status_code == 303
    # Monday 10:00 UTC is 05:00 in New York: tomorrow 09:00 there is Tuesday 14:00 UTC.
    snoozed = db.one(Obligation, Obligation.id == obligation.id)
    assert snoozed.snoozed_until == datetime(2026, 1, 6, 14, 0, tzinfo=UTC)
    event = db.one(ObligationEvent, ObligationEvent.kind == "snoozed")
    assert (event.actor, event.detail) == ("env-token-1", {"until": "2026-01-06T14:00:00+00:00"})
    assert "snoozed" in (await ops.get("/dashboard")).text


async def test_snooze_for_four_hours(ops: httpx.AsyncClient, db: TestDatabase) -> None:
    obligation = make_obligation(make_recruiter(db))
    db.add(obligation)
    await post_form(
        ops, "/dashboard", f"/dashboard/obligations/{obligation.id}/snooze", {"until": "4h"}
    )
    snoozed = db.one(Obligation, Obligation.id == obligation.id)
    assert snoozed.snoozed_until == T0 + timedelta(hours=4)


async def test_an_action_on_a_closed_obligation_says_why_it_was_not_done(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    obligation = make_obligation(make_recruiter(db), status="closed", closed_at=T0)
    db.add(obligation)
    board = await ops.get("/dashboard?status=closed")
    for action, data in (("snooze", {"until": "1h"}), ("call", {})):
        answer = await post_form(
            ops,
            "/dashboard?status=closed",
            f"/dashboard/obligations/{obligation.id}/{action}",
            data,
        )
        assert answer.status_code == 409
        assert f"obligation {obligation.id} is closed" in answer.text
    assert board.status_code == 200
    assert db.count(ObligationEvent) == 0


async def test_call_queues_a_click_to_call_like_the_api(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    alice = make_recruiter(db)
    obligation = make_obligation(alice)
    db.add(obligation)
    answer = await post_form(ops, "/dashboard", f"/dashboard/obligations/{obligation.id}/call")
    assert answer.headers["location"] == "/dashboard?notice=call"
    item = db.one(OutboxItem)
    assert (item.kind, item.to_number, item.call_target) == ("call", alice.mobile, "+447700900123")
    event = db.one(ObligationEvent)
    assert (event.kind, event.actor) == ("call_requested", "env-token-1")
    assert "recruiter&#39;s phone rings first" in (await ops.get(answer.headers["location"])).text


async def test_the_obligation_page_shows_timeline_calls_and_a_player(
    ops: httpx.AsyncClient, db: TestDatabase, fake_twilio: FakeTwilio
) -> None:
    alice = make_recruiter(db)
    obligation = make_obligation(alice, caller_name="Bob Caller")
    db.add(obligation)
    recording = fake_twilio.add("Recordings", call_sid="CA" + "2" * 32, duration="12")
    voicemail = _voicemail(obligation, recording["sid"], "Call me about the role")
    db.add(voicemail, make_call(alice, "CA" + "3" * 32, obligation_id=obligation.id))
    await post_form(
        ops, "/dashboard", f"/dashboard/obligations/{obligation.id}/snooze", {"until": "1h"}
    )
    page = (await ops.get(f"/dashboard/obligations/{obligation.id}")).text
    assert "Bob Caller" in page and "“Call me about the role”" in page
    assert "snoozed" in page and "by env-token-1" in page
    assert "no-answer" in page and "inbound" in page
    assert f'<audio controls preload="none" src="/dashboard/recordings/{voicemail.id}">' in page
    audio = await ops.get(f"/dashboard/recordings/{voicemail.id}")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    assert audio.content == b"ID3 fake audio of " + recording["sid"].encode()


async def test_the_recording_proxy_needs_a_session_and_a_known_recording(
    web: httpx.AsyncClient, ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    obligation = make_obligation(make_recruiter(db))
    db.add(obligation)
    voicemail = _voicemail(obligation, "RE" + "9" * 32, None)  # unknown to Twilio
    db.add(voicemail)
    assert (await ops.get(f"/dashboard/recordings/{voicemail.id}")).status_code == 404
    assert (await ops.get("/dashboard/recordings/999999")).status_code == 404
    ops.cookies.clear()
    assert (await web.get(f"/dashboard/recordings/{voicemail.id}")).status_code == 303


async def test_an_unknown_obligation_is_not_found(ops: httpx.AsyncClient) -> None:
    assert (await ops.get("/dashboard/obligations/424242")).status_code == 404


H = timedelta(hours=1)


def _promised(alice: Recruiter, n: int, opened: datetime, by: datetime | None) -> Obligation:
    return make_obligation(alice, caller=f"+4477009{n:05d}", opened_at=opened, promised_by=by)


def _rows(page: str) -> list[str]:
    return [part.split('"')[0] for part in page.split('id="obligation-')[1:]]


async def test_the_board_shows_the_overdue_first_longest_overdue_first_then_the_rest_by_age(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    alice = make_recruiter(db, timezone="Europe/London")
    rows = [
        _promised(alice, 1, T0 - 10 * H, None),  # no promise: the rest, oldest
        _promised(alice, 2, T0 - 6 * H, T0 - 2 * H),  # overdue 2h
        _promised(alice, 3, T0 - 5 * H, T0 - 3 * H),  # overdue 3h: first
        _promised(alice, 4, T0 - 1 * H, T0 + 3 * H),  # due 13:00
        _promised(alice, 5, T0 - 8 * H, T0),  # due now: not past it yet
    ]
    db.add(*rows)

    page = (await ops.get("/dashboard")).text

    by_order = [rows[i] for i in (2, 1, 0, 4, 3)]
    assert _rows(page) == [str(o.id) for o in by_order]
    assert page.count(">Overdue</span>") == 2
    assert "Due by 13:00" in page and "Due by 10:00" in page


async def test_the_board_pages_across_the_overdue_and_the_rest_without_gaps_or_repeats(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    alice = make_recruiter(db)
    overdue = [_promised(alice, n, T0 - 9 * H, T0 - timedelta(minutes=n)) for n in range(1, 31)]
    rest = [_promised(alice, 100 + n, T0 - timedelta(minutes=n), None) for n in range(1, 31)]
    db.add(*overdue, *rest)

    first = (await ops.get("/dashboard")).text
    cursor = first.split("cursor=")[1].split('"')[0]
    second = (await ops.get(f"/dashboard?status=open&cursor={cursor}")).text

    expected = [o.id for o in reversed(overdue)] + [o.id for o in reversed(rest)]
    assert _rows(first) + _rows(second) == [str(i) for i in expected]
    assert len(_rows(first)) == 50 and "cursor=" not in second.split('class="pager"')[1]


async def test_a_page_filled_by_the_overdue_alone_leads_on_to_the_rest(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    alice = make_recruiter(db)
    db.add(*[_promised(alice, n, T0 - 9 * H, T0 - timedelta(minutes=n)) for n in range(1, 51)])
    alone = (await ops.get("/dashboard")).text
    assert len(_rows(alone)) == 50 and "Next page" not in alone

    db.add(_promised(alice, 99, T0 - H, None))
    first = (await ops.get("/dashboard")).text
    cursor = first.split("cursor=")[1].split('"')[0]
    second = (await ops.get(f"/dashboard?status=open&cursor={cursor}")).text
    assert len(_rows(first)) == 50 and len(_rows(second)) == 1 and "+44 7700 900099" in second


class _Recorder:
    """A session that keeps the statements it is given and finds nothing."""

    def __init__(self) -> None:
        self.statements: list[Any] = []

    async def scalars(self, statement: Any) -> Any:
        self.statements.append(statement)
        return SimpleNamespace(all=list)

    async def scalar(self, statement: Any) -> None:
        self.statements.append(statement)


@pytest.mark.parametrize("kind", [BOARD_OVERDUE, BOARD_REST])
async def test_a_board_page_reads_an_index_in_its_order_at_any_depth(
    db: TestDatabase, kind: str
) -> None:
    session = _Recorder()
    cursor = encode_cursor(kind, Position(T0 - 3 * H, 7))
    for recruiter_id in (None, 4):
        statement = select(Obligation)
        if recruiter_id is not None:
            statement = statement.where(Obligation.recruiter_id == recruiter_id)
        await open_page(session, statement, now=T0, cursor=cursor)  # type: ignore[arg-type]

    plans = [explain(db, statement) for statement in session.statements]

    assert plans and all("TEMP B-TREE" not in p and "Sort" not in p for p in plans), plans
    index, at = {
        BOARD_OVERDUE: ("ix_obligations_promised_open", "promised_by"),
        BOARD_REST: ("ix_obligations_status_opened", "opened_at"),
    }[kind]
    from_cursor = plans[::2]  # the overdue part is followed by the rest's first page
    assert all(index in p and (f"{at}>" in p or f"ROW({at}, id) >" in p) for p in from_cursor)
