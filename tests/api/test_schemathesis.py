"""Schemathesis against /openapi.json of a live server on loopback, with a valid token:
no 5xx, no response outside the document, no schema violation (every check on)."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.models import ObligationEvent, Voicemail
from tests.api.conftest import ENV_TOKEN
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_call, make_obligation, make_recruiter
from tests.support.live import LiveServer

CONFIG = Path(__file__).with_name("schemathesis.toml")
# Webhooks have their own tests (signed requests); this run covers what ops and probes use.
PATHS = r"^/(api/v1/|healthz$|readyz$|metrics$)"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"api_tokens": ENV_TOKEN}


def seed(db: TestDatabase) -> None:
    """Rows behind the documented example ids, so the fuzzer reaches real answers too."""
    recruiter = make_recruiter(db)
    db.add(*[make_obligation(recruiter, caller=f"+4477009{n:05d}") for n in range(3)])
    db.add(
        make_call(recruiter, "CA1", obligation_id=1, missed_at=T0),
        ObligationEvent(obligation_id=1, at=T0, kind="opened", actor="twilio", detail=None),
        Voicemail(
            recording_sid="RE1",
            call_sid="CA1",
            obligation_id=1,
            recording_url="https://api.twilio.com/rec/RE1",
            duration_seconds=9,
            created_at=T0 + timedelta(seconds=30),
            updated_at=T0,
        ),
    )


@pytest.mark.slow
def test_schemathesis_finds_nothing(
    db: TestDatabase, live_server: LiveServer, tmp_path: Path
) -> None:
    seed(db)
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{live_server.url}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {ENV_TOKEN}",
        "--include-path-regex",
        PATHS,
        "--max-examples",
        "25",
        "--seed",
        "6",
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--no-color",
    ]
    result = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("SCHEMATHESIS")},
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
