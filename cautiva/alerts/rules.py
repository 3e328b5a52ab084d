"""Alert rules as pure functions: checking a rule, matching answers, what an alert may copy.

A rule is an expression in the survey language (`selected(${risks}, 'violence')`,
`${group_size} > 5`). Matching never raises: a rule that cannot be evaluated is logged and
treated as not matching, so no rule can make a survey fail.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from cautiva.errors import InvalidInput
from cautiva.models import Severity
from cautiva.surveys.expressions import Answer, Context, Expression, holds, parse
from cautiva.surveys.forms import Form, QuestionType

log = logging.getLogger("cautiva.alerts")

MAX_NAME_LENGTH = 120
MAX_EXPRESSION_LENGTH = 1000
SEVERITIES = tuple(s.value for s in Severity)
# Free text may hold a name, a phone number or an email: an alert never copies it.
UNCOPIED_TYPES = frozenset({QuestionType.TEXT, QuestionType.NOTE})


@dataclass(frozen=True, slots=True)
class CheckedRule:
    """A rule whose name, expression and severity passed the checks."""

    name: str
    expression: Expression
    severity: Severity
    unknown: tuple[str, ...]
    """Questions the expression reads that no published form asks (typo, or a future form)."""


def check_rule(
    *, name: str, expression: str, severity: str, questions: Collection[str] | None = None
) -> CheckedRule:
    """Check a rule before it is stored; InvalidInput says what is wrong.

    `questions` are the question names of the published forms: references outside them are
    allowed (a form may come later) but reported in `unknown`.
    """
    clean_name = " ".join(name.split())
    if not clean_name:
        raise InvalidInput("a rule needs a name")
    if len(clean_name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"a rule's name has at most {MAX_NAME_LENGTH} characters")
    try:
        level = Severity(severity.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"unknown severity {severity!r} (one of: {', '.join(SEVERITIES)})"
        ) from None
    source = expression.strip()
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise InvalidInput(f"an expression has at most {MAX_EXPRESSION_LENGTH} characters")
    parsed = parse(source)
    if not parsed.references:
        raise InvalidInput(
            f"expression {source!r}: reads no question (write questions as ${{name}})"
        )
    unknown = () if questions is None else tuple(sorted(parsed.references - set(questions)))
    return CheckedRule(clean_name, parsed, level, unknown)


@lru_cache(maxsize=256)
def compiled(source: str) -> Expression | None:
    """The parsed expression of a stored rule, or None when it no longer parses (logged)."""
    try:
        return parse(source)
    except InvalidInput as error:
        log.error("alert rule not evaluated: %s", error)
        return None


def matches(source: str, answers: Mapping[str, Answer], *, today: date | None = None) -> bool:
    """Whether a stored rule's expression holds for these answers; False when it cannot run."""
    expression = compiled(source)
    if expression is None:
        return False
    try:
        return holds(expression, Context(answers=answers, today=today))
    except Exception:
        # A rule must never make a survey fail: log it (never the answers) and go on.
        log.exception("alert rule %r raised while evaluated; treated as not matching", source)
        return False


def details(source: str, answers: Mapping[str, Any], form: Form) -> dict[str, Any]:
    """The answers the rule reads, as stored, leaving out anything that may be free text."""
    expression = compiled(source)
    if expression is None:
        return {}
    copied: dict[str, Any] = {}
    for name in sorted(expression.references):
        question = form.question(name)
        if question is None or name not in answers or question.type in UNCOPIED_TYPES:
            continue
        value = answers[name]
        # A calculation may join text answers together: only its numbers are copied.
        if question.type is QuestionType.CALCULATE and not isinstance(value, int | float):
            continue
        copied[name] = value
    return copied
