"""What a running service holds: settings, clock, database engine and sessions."""

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from twilio.request_validator import RequestValidator

from app import db_driver
from app.clock import Clock, clock_from_settings
from app.config import Settings
from app.db import create_async_db_engine, session_factory
from app.reminders.policy import NudgePolicy
from app.twilio.signature import SignatureCheck
from app.twilio.twiml import VoiceTwiml


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    validator: RequestValidator = field(init=False)
    # Built once from the settings, so webhooks do not rebuild them per request.
    policy: NudgePolicy = field(init=False)
    twiml: VoiceTwiml = field(init=False)
    # Set once /readyz has seen the newest schema; a schema does not go back by itself.
    schema_ready: bool = field(default=False, init=False)
    signatures: SignatureCheck = field(init=False)

    def __post_init__(self) -> None:
        self.validator = RequestValidator(self.settings.auth_token)
        self.policy = NudgePolicy.of(self.settings)
        self.twiml = VoiceTwiml(self.settings)
        self.signatures = SignatureCheck(self.settings.auth_token)

    @classmethod
    def start(cls, settings: Settings, clock: Clock | None = None) -> "Runtime":
        engine = create_async_db_engine(settings.database_url)
        direct = db_driver.DirectPostgres.of_url(settings.database_url)
        if direct is not None:
            db_driver.attach(engine, direct)
        return cls(
            settings=settings,
            clock=clock or clock_from_settings(settings.callpledge_clock_file),
            engine=engine,
            sessions=session_factory(engine),
        )

    async def stop(self) -> None:
        direct = db_driver.driver_of(self.engine)
        if direct is not None:
            await direct.close()
        await self.engine.dispose()
