"""`twilio setup`: point each line's webhooks, and the softphones' TwiML App, at this service.

A plan is worked out first (what each resource has, what it should have), so a dry run
shows exactly what a real run changes. The twilio client blocks: call these off any
event loop.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from twilio.rest import Client

from app.config import Settings
from app.twilio import twiml
from app.twilio.messaging import INCOMING as SMS_INCOMING
from app.twilio.twiml import OUTBOUND

APP_NAME = "callpledge softphones"
# Twilio's connection overrides: retry 3 times on connect timeout, read timeout and 5xx.
RETRIES = "#rc=3&rp=ct,rt,5xx"


@dataclass(frozen=True)
class Change:
    field: str
    old: str | None
    new: str


@dataclass(frozen=True)
class NumberPlan:
    """One line: its IncomingPhoneNumber (None when the account has no such number)."""

    line: str
    sid: str | None
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class AppPlan:
    """The TwiML App the softphones dial out through (sid None: it will be created)."""

    sid: str | None
    changes: tuple[Change, ...]


def number_settings(settings: Settings) -> dict[str, str]:
    """What every line should have (the twilio library's parameter names).

    Twilio reads connection overrides on every webhook URL it requests, callbacks and the
    fallback included; without them it retries only a failed connection, once.
    """
    url = settings.public_url
    return {
        "voice_url": url(twiml.INCOMING) + RETRIES,
        "voice_method": "POST",
        "voice_fallback_url": url(twiml.FALLBACK) + RETRIES,
        "voice_fallback_method": "POST",
        "status_callback": url(twiml.STATUS) + RETRIES,
        "status_callback_method": "POST",
        "sms_url": url(SMS_INCOMING) + RETRIES,
        "sms_method": "POST",
        # An application on the number would take precedence over every URL above.
        "voice_application_sid": "",
        "sms_application_sid": "",
    }


def app_settings(settings: Settings) -> dict[str, str]:
    """What the softphones' TwiML App should have."""
    return {"voice_url": settings.public_url(OUTBOUND) + RETRIES, "voice_method": "POST"}


def plan_numbers(
    client: Client, *, lines: Sequence[str], wanted: Mapping[str, str]
) -> list[NumberPlan]:
    """For each line, the changes its IncomingPhoneNumber needs."""
    plans = []
    for line in lines:
        # The filter matches partial numbers too: keep the exact one.
        found = client.incoming_phone_numbers.list(phone_number=line, limit=50)
        number = next((n for n in found if n.phone_number == line), None)
        if number is None:
            plans.append(NumberPlan(line, None))
            continue
        plans.append(NumberPlan(line, number.sid, _changes(number, wanted)))
    return plans


def plan_app(client: Client, *, wanted: Mapping[str, str]) -> AppPlan:
    """The changes the TwiML App needs, or its creation."""
    found = client.applications.list(friendly_name=APP_NAME, limit=1)
    if not found:
        return AppPlan(None, tuple(Change(name, None, value) for name, value in wanted.items()))
    return AppPlan(found[0].sid, _changes(found[0], wanted))


def apply_number(client: Client, plan: NumberPlan) -> None:
    """Make the planned changes to one line."""
    if plan.sid is not None and plan.changes:
        client.incoming_phone_numbers(plan.sid).update(**_values(plan.changes))


def apply_app(client: Client, plan: AppPlan) -> str:
    """Create or update the TwiML App; its SID."""
    if plan.sid is None:
        created = client.applications.create(friendly_name=APP_NAME, **_values(plan.changes))
        return str(created.sid)
    if plan.changes:
        client.applications(plan.sid).update(**_values(plan.changes))
    return plan.sid


def _changes(resource: Any, wanted: Mapping[str, str]) -> tuple[Change, ...]:
    changes = []
    for name, value in wanted.items():
        current = getattr(resource, name, None) or None
        if current != (value or None):
            changes.append(Change(name, current, value))
    return tuple(changes)


def _values(changes: Sequence[Change]) -> dict[str, str]:
    return {change.field: change.new for change in changes}
