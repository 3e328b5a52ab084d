"""Alert rules and webhook signatures as pure functions: checking, matching, copying, signing."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta
from typing import Any

import pytest

from cautiva.alerts import rules
from cautiva.alerts.rules import check_rule, details, matches
from cautiva.alerts.webhook import headers_for, retry_delay, signature, verify
from cautiva.errors import InvalidInput
from cautiva.surveys.forms import Form, Page, Question, QuestionType

QUESTIONS = {"risks", "group_size", "coming_from_place", "children", "consent"}


def form() -> Form:
    questions = (
        Question("risks", QuestionType.SELECT_MULTIPLE, choices="risks"),
        Question("group_size", QuestionType.INTEGER),
        Question("coming_from_place", QuestionType.TEXT),
        Question("children", QuestionType.CALCULATE),
        Question("summary", QuestionType.CALCULATE),
    )
    return Form("f", "1", {"en": "F"}, ("en",), "en", (Page("p", {}, questions),))


def test_a_good_rule_is_checked_and_tidied() -> None:
    checked = check_rule(
        name="  Violence   on the way ",
        expression=" selected(${risks}, 'violence') ",
        severity="Critical",
        questions=QUESTIONS,
    )
    assert checked.name == "Violence on the way"
    assert checked.expression.source == "selected(${risks}, 'violence')"
    assert checked.severity.value == "critical" and checked.unknown == ()


def test_questions_no_form_asks_are_reported_not_refused() -> None:
    checked = check_rule(
        name="Children alone",
        expression="${children_alone} > 0",
        severity="warning",
        questions=QUESTIONS,
    )
    assert checked.unknown == ("children_alone",)


@pytest.mark.parametrize(
    ("name", "expression", "severity", "reason"),
    [
        ("", "${group_size} > 5", "info", "needs a name"),
        ("x" * 121, "${group_size} > 5", "info", "at most 120"),
        ("Big group", "${group_size} > 5", "urgent", "unknown severity 'urgent'"),
        ("Big group", "${group_size} >", "info", "ends too early"),
        ("Big group", "selected(${risks} 'violence')", "info", "expected ')'"),
        ("Big group", "risks = 'violence'", "info", "write a question as ${risks}"),
        ("Big group", "eval(${risks})", "info", "function eval() is not supported"),
        ("Big group", "1 = 1", "info", "reads no question"),
        ("Big group", "", "info", "is empty"),
        ("Big group", "${a} = '" + "x" * 1000 + "'", "info", "at most 1000"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(
    name: str, expression: str, severity: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_rule(name=name, expression=expression, severity=severity, questions=QUESTIONS)
    assert reason in str(caught.value)


def test_matching_reads_answers_and_missing_questions_are_empty() -> None:
    answers: dict[str, Any] = {"risks": ["robbery", "violence"], "group_size": 3}
    assert matches("selected(${risks}, 'violence')", answers)
    assert not matches("selected(${risks}, 'extortion')", answers)
    assert matches("${group_size} > 2 and ${group_size} < 4", answers)
    # A question the response does not have reads as empty: never a match, never an error.
    assert not matches("${children_alone} > 0", answers)
    assert matches("${children_alone} = ''", answers)


def test_a_rule_that_raises_is_logged_and_does_not_match(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object) -> bool:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(rules, "holds", broken)
    with caplog.at_level(logging.ERROR, logger="cautiva.alerts"):
        assert not matches("${group_size} > 1", {"group_size": 4})
    assert "treated as not matching" in caplog.text
    assert "boom" in caplog.text


def test_a_stored_rule_that_no_longer_parses_does_not_match(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="cautiva.alerts"):
        assert not matches("${group_size} >", {"group_size": 4})
    assert "not evaluated" in caplog.text


def test_details_copy_what_the_rule_reads_but_never_free_text() -> None:
    answers: dict[str, Any] = {
        "risks": ["violence"],
        "group_size": 4,
        "coming_from_place": "ana@example.org, tel 3001234567",
        "children": 2,
        "summary": "Ana from Cúcuta",
        "consent": "yes",
    }
    source = (
        "selected(${risks}, 'violence') and ${group_size} > 1 and ${coming_from_place} != '' "
        "and ${children} > 0 and ${summary} != '' and ${unanswered} = ''"
    )
    assert details(source, answers, form()) == {
        "children": 2,
        "group_size": 4,
        "risks": ["violence"],
    }


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    secret, body = "s" * 32, '{"event":"alert.opened","alert":{"title":"Niño solo"}}'
    expected = hmac.new(secret.encode(), b"1760000000." + body.encode(), hashlib.sha256).hexdigest()
    assert signature(secret, 1760000000, body) == f"sha256={expected}"
    headers = headers_for(7, "alert.opened", body, secret=secret, timestamp=1760000000)
    assert headers["X-Cautiva-Delivery"] == "7" and headers["X-Cautiva-Event"] == "alert.opened"
    assert headers["X-Cautiva-Timestamp"] == "1760000000"
    assert headers["Content-Type"] == "application/json"
    received = {k.lower(): v for k, v in headers.items()}
    assert verify(secret, received, body.encode())
    assert not verify("t" * 32, received, body.encode())
    assert not verify(secret, received, body.encode() + b" ")
    assert not verify(secret, received | {"x-cautiva-signature": "sha256=é"}, body.encode())
    assert not verify(secret, received | {"x-cautiva-timestamp": "\uff11\uff17"}, body.encode())
    # The timestamp is signed too: a replay with a fresh timestamp fails.
    assert not verify(secret, received | {"x-cautiva-timestamp": "1760000999"}, body.encode())


def test_retry_delay_doubles_with_a_little_jitter() -> None:
    delays = [retry_delay(30, attempts) for attempts in (1, 2, 3, 4)]
    for attempts, delay in enumerate(delays, start=1):
        base = 30 * 2 ** (attempts - 1)
        assert timedelta(seconds=base) <= delay <= timedelta(seconds=base * 1.1)
    assert delays == sorted(delays)
