"""The questions dashboards and shared figures read, by their names in the shipped forms.

A survey team may change wording, choices and order freely; a form that keeps these question
names feeds the dashboards. Travel-group members are counted through the age-and-sex bands
(the respondent counts themself in them), so "people characterised" is their sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Band:
    """One age-and-sex band question: how many people of that sex and age travel in the group."""

    question: str
    sex: str
    ages: str


BANDS: tuple[Band, ...] = (
    Band("girls_0_5", "female", "0-5"),
    Band("boys_0_5", "male", "0-5"),
    Band("girls_6_17", "female", "6-17"),
    Band("boys_6_17", "male", "6-17"),
    Band("women_18_59", "female", "18-59"),
    Band("men_18_59", "male", "18-59"),
    Band("women_60", "female", "60+"),
    Band("men_60", "male", "60+"),
)
SEXES: tuple[str, ...] = ("female", "male")
AGE_BANDS: tuple[str, ...] = ("0-5", "6-17", "18-59", "60+")

NATIONALITY = "nationality"
ORIGIN = "coming_from"
DESTINATION = "going_to"
STAY = "stay"
NEEDS = "needs"
RISKS = "risks"


def band_counts(answers: Mapping[str, Any]) -> dict[Band, int]:
    """How many people of each band a response declares (missing or bad answers count 0)."""
    counts: dict[Band, int] = {}
    for band in BANDS:
        value = answers.get(band.question)
        counts[band] = (
            value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
        )
    return counts


def people(answers: Mapping[str, Any]) -> int:
    """The people a response characterises: the sum of its bands (0 when it asks none)."""
    return sum(band_counts(answers).values())


def choices(answers: Mapping[str, Any], question: str) -> list[str]:
    """The choices picked for `question`: a select_one as one item, a select_multiple as many."""
    value = answers.get(question)
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str) and item]
    return []
