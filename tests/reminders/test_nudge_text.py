"""What nudges say: who, how long ago, how many calls, the transcript's start, the commands;
always within two segments."""

from datetime import UTC, datetime, timedelta

import pytest

from app.reminders.policy import (
    NudgeFacts,
    digest_text,
    escalation_text,
    nudge_text,
    withheld_voicemail_text,
)
from app.sms.segments import is_gsm7, segments

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def facts(**fields: object) -> NudgeFacts:
    values: dict[str, object] = {
        "obligation_id": 123,
        "caller": "+447700900123",
        "caller_name": None,
        "opened_at": NOW - timedelta(hours=5),
        "last_missed_at": NOW - timedelta(minutes=20),
        "missed_calls": 3,
    }
    return NudgeFacts(**(values | fields))  # type: ignore[arg-type]


def test_a_nudge_names_caller_calls_age_transcript_and_commands() -> None:
    text = nudge_text(
        facts(caller_name="Jane Doe", transcript="Hi, about the job.", has_voicemail=True), NOW
    )
    assert text == (
        "#123 Call back Jane Doe +44 7700 900123: 3 missed calls, first 5h ago, last 20m ago.\n"
        'Voicemail: "Hi, about the job."\n'
        "Reply DONE 123, SNOOZE 123 2h or CALL 123"
    )


def test_a_voicemail_without_transcript_is_mentioned() -> None:
    text = nudge_text(facts(missed_calls=1, has_voicemail=True), NOW)
    assert "missed call 20m ago.\nVoicemail left.\n" in text


def test_a_long_transcript_is_cut_at_a_word_to_fit_two_gsm_segments() -> None:
    transcript = "I am calling about the warehouse supervisor role you posted " * 20
    text = nudge_text(facts(transcript=transcript, has_voicemail=True), NOW)
    assert is_gsm7(text) and segments(text) == 2 and len(text) > 280
    assert '..."\nReply DONE 123' in text and "role you posted ro..." not in text


def test_a_transcript_outside_gsm_is_cut_to_fit_two_ucs2_segments() -> None:
    transcript = "您好，我想了解一下这个职位的情况，请回电话给我。" * 10
    text = nudge_text(facts(missed_calls=1, transcript=transcript, has_voicemail=True), NOW)
    assert not is_gsm7(text) and segments(text) == 2
    assert 'Voicemail: "您好' in text and text.endswith("CALL 123")


def test_a_name_outside_gsm_gives_way_when_nothing_else_fits() -> None:
    text = nudge_text(facts(caller_name="Zoë Ångström-Łukasiewicz", has_voicemail=True), NOW)
    assert segments(text) <= 2 and text.endswith("CALL 123")


@pytest.mark.parametrize("count", [3, 5, 40])
def test_a_digest_fits_two_segments_and_says_how_many_it_leaves_out(count: int) -> None:
    items = [
        facts(obligation_id=1000 + n, caller=f"+1415555{n:04d}", caller_name="A Caller")
        for n in range(count)
    ]
    text = digest_text(items, NOW)
    assert segments(text) <= 2 and text.startswith(f"{count} callers to call back:")
    listed = [line for line in text.splitlines() if line.startswith("#")]
    assert listed[0] == "#1000 A Caller +1 415-555-0000, 3 calls, last 20m ago"
    if len(listed) < count:
        assert f"+{count - len(listed)} more: reply LIST" in text


def test_the_withheld_voicemail_sms_quotes_the_transcript_and_offers_only_done() -> None:
    text = withheld_voicemail_text(facts(caller=None, transcript="Call me at the office."), NOW)
    assert text == (
        '#123 A withheld number left a voicemail 20m ago: "Call me at the office."\n'
        "There is no number to call back. Reply DONE 123 when handled."
    )
    assert "(no transcript)" in withheld_voicemail_text(facts(caller=None), NOW)


def test_the_escalation_names_the_recruiter_and_the_reminders() -> None:
    text = escalation_text(facts(), recruiter="Alice Smith", nudges=3, now=NOW)
    assert text == (
        "#123 Escalation: Alice Smith has not called back +44 7700 900123 after 3 reminders "
        "(3 missed calls, first 5h ago, last 20m ago)."
    )
    assert segments(escalation_text(facts(), recruiter="名" * 200, nudges=3, now=NOW)) <= 2


def test_ages_read_in_the_largest_whole_unit() -> None:
    for age, words in [
        (timedelta(seconds=30), "just now"),
        (timedelta(minutes=59), "59m ago"),
        (timedelta(hours=25), "1d ago"),
    ]:
        assert f"missed call {words}" in nudge_text(
            facts(missed_calls=1, last_missed_at=NOW - age), NOW
        )
