"""The JSON of /api/v1/stats: SLA figures for a window, overall and per recruiter."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas import T, examples


class OpenByAge(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    lt_1h: int = Field(description="younger than 1 h")
    h1_4h: int = Field(alias="1h_4h", description="1 h to under 4 h")
    h4_24h: int = Field(alias="4h_24h", description="4 h to under 24 h")
    gt_24h: int = Field(description="24 h or older")


class OpenFigures(BaseModel):
    total: int
    by_age: OpenByAge


class TimeToReturn(BaseModel):
    median_seconds: float | None
    p90_seconds: float | None


class Figures(BaseModel):
    open: OpenFigures = Field(description="obligations open at `until`, by their age then")
    missed: int = Field(description="calls missed in the window")
    returned: int = Field(description="obligations closed in the window by callback or answer")
    time_to_return: TimeToReturn = Field(description="closed_at − opened_at of those returned")
    kept: int = Field(description="closed in the window by callback or answer by promised_by")
    broken: int = Field(description="promised_by fell in the window while still open")
    kept_ratio: float | None = Field(description="kept / (kept + broken); null: neither")


class _Recruiter(BaseModel):
    recruiter_id: int
    name: str


class _Window(BaseModel):
    since: datetime = Field(description="start of the window (inclusive)")
    until: datetime = Field(description="end of the window (exclusive)")


class RecruiterStats(Figures, _Recruiter):
    pass


class Stats(Figures, _Window):
    model_config = examples(
        {
            "since": "2025-12-29T10:00:00Z",
            "until": T,
            "open": {"total": 3, "by_age": {"lt_1h": 1, "1h_4h": 0, "4h_24h": 1, "gt_24h": 1}},
            "missed": 12,
            "returned": 9,
            "time_to_return": {"median_seconds": 5400.0, "p90_seconds": 86400.0},
            "kept": 8,
            "broken": 2,
            "kept_ratio": 0.8,
            "by_recruiter": [],
        }
    )

    by_recruiter: list[RecruiterStats]
