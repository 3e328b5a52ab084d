"""One person's way through the splash pages, as sealed in the page's hidden `state` field."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from cautiva.surveys.expressions import Answer


class Step(StrEnum):
    """The splash steps in order; `minor` ends an under-18 visit, `referrals` shows if any match."""

    LANGUAGE = "language"
    CONSENT = "consent"
    EMAIL = "email"
    SURVEY = "survey"
    MINOR = "minor"
    REFERRALS = "referrals"
    MESSAGE = "message"


MIKROTIK_PARAMS = (
    "mac",
    "ip",
    "link-login-only",
    "link-orig",
    "chap-id",
    "chap-challenge",
    "identity",
    "server-name",
)
UAM_PARAMS = (
    "res",
    "uamip",
    "uamport",
    "challenge",
    "called",
    "mac",
    "ip",
    "nasid",
    "sessionid",
    "userurl",
)
MAX_PARAM_LENGTH = 2048


@dataclass(slots=True)
class Grant:
    """The credential issued at the end of the survey."""

    username: str
    password: str
    seconds: int


@dataclass(slots=True)
class Visit:
    """The visit so far; never holds the email, only the person key derived from it."""

    nas: str
    csrf: str
    lang: str
    router: dict[str, str]
    step: Step = Step.LANGUAGE
    age: str | None = None
    terms: bool = False
    person: str | None = None
    returning: bool = False
    form_row: int | None = None
    page: str | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    shown: list[str] = field(default_factory=list)
    grant: Grant | None = None
    needs: list[str] = field(default_factory=list)
    """The need codes declared in the survey, while the services that meet them are shown."""

    def dump(self) -> dict[str, Any]:
        """The visit as JSON-ready data."""
        return asdict(self)

    @classmethod
    def load(cls, data: dict[str, Any]) -> Visit | None:
        """The visit from sealed data, or None when it does not fit (an older release's token)."""
        try:
            grant = data.pop("grant", None)
            visit = cls(**data)
            visit.step = Step(visit.step)
            visit.grant = Grant(**grant) if grant else None
        except (TypeError, ValueError):
            return None
        return visit
