"""Surveys shown on the splash page: XLSForm in, typed form, pure page-by-page engine."""

from __future__ import annotations

from cautiva.surveys.engine import (
    finalize,
    next_page,
    previous_page,
    validate_all,
    validate_page,
    visible_choices,
    visible_questions,
)
from cautiva.surveys.forms import Choice, Form, Page, Question, QuestionType
from cautiva.surveys.xlsform import load_xlsform

__all__ = [
    "Choice",
    "Form",
    "Page",
    "Question",
    "QuestionType",
    "finalize",
    "load_xlsform",
    "next_page",
    "previous_page",
    "validate_all",
    "validate_page",
    "visible_choices",
    "visible_questions",
]
