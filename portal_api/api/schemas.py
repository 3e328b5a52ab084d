"""Request and response bodies of the survey API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ChoiceOut(BaseModel):
    """One answer option, labelled in the asked language."""

    name: str
    label: str


class QuestionOut(BaseModel):
    """One question as the client shows it; expressions are XLSForm source text."""

    name: str
    type: str
    label: str
    hint: str | None = None
    required: bool
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: str | None = None
    choice_filter: str | None = None
    choices: list[ChoiceOut] | None = None
    default: str | None = None


class PageOut(BaseModel):
    """One page (XLSForm group)."""

    name: str
    label: str
    relevant: str | None = None
    questions: list[QuestionOut]


class FormOut(BaseModel):
    """The form a point shows, resolved for the asked language."""

    form_id: str
    version: str
    lang: str
    languages: list[str]
    title: str
    pages: list[PageOut]


class ResponseIn(BaseModel):
    """A completed survey, with the router's redirect parameters as received."""

    lang: str = Field(min_length=2, max_length=16)
    age_confirmed: bool
    terms_accepted: bool
    email: str = Field(max_length=254)
    answers: dict[str, Any]
    router: dict[str, str] = Field(default_factory=dict)


class GrantOut(BaseModel):
    """The one-time credential for the router."""

    username: str
    password: str
    seconds: int


class LoginOut(BaseModel):
    """How the browser logs in to the router: a POST form (MikroTik) or a GET (UAM)."""

    method: Literal["post", "get"]
    url: str
    fields: dict[str, str]


class ReferralOut(BaseModel):
    """A service near the point that meets some of the declared needs (`needs`: which)."""

    id: int
    name: str
    kind: str
    address: str
    hours: str
    contact: str
    languages: list[str]
    needs: list[str]
    department: str | None
    municipality: str | None


class ResponseOut(BaseModel):
    """What a successful submission returns."""

    grant: GrantOut
    login: LoginOut | None
    returning: bool
    referrals: list[ReferralOut] = Field(default_factory=list)
