"""The expression subset: parsing, rejection, and XPath-like evaluation."""

from __future__ import annotations

import math
import re
from datetime import date

import pytest

from cautiva.errors import InvalidInput
from cautiva.surveys.expressions import (
    REGEX_INPUT_LIMIT,
    Answer,
    Context,
    Value,
    evaluate,
    holds,
    parse,
    to_string,
)

ANSWERS: dict[str, Answer] = {
    "age": 34,
    "size": "5",
    "name": "Ana",
    "zero": 0,
    "code": "010",
    "needs": ["food", "water"],
    "empty_list": [],
    "ratio": 1.5,
    "country": "VEN",
}
KNOWN = [*ANSWERS, "unanswered"]


def run(source: str, current: Answer | None = None, columns: dict[str, str] | None = None) -> Value:
    expression = parse(source, known=KNOWN, allow_current=True, columns=list(columns or {}))
    return evaluate(
        expression, Context(ANSWERS, current=current, columns=columns, today=date(2026, 11, 23))
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${age} > 18", True),
        ("${age} >= 34 and ${age} <= 34", True),
        ("${age} < 18 or ${name} = 'Ana'", True),
        ("${size} = 5", True),
        ("${size} = '5.0'", True),  # both number-like: compared as numbers
        ("${code} = '10'", True),
        ("${name} = 'ana'", False),  # text compares exactly
        ("${name} != 'Ana'", False),
        ("'10' < '9'", False),  # number-like text orders as numbers
        ("'b' > 'a'", True),
        ("today() > '2026-01-01'", True),
        ("today() = '2026-11-23'", True),
        ("${unanswered} = ''", True),
        ("${unanswered} > 0", False),
        ("${unanswered} < 0", False),
        ("not(${unanswered})", True),
        ("not(${name})", False),
        ("${zero} = 0", True),
        ("selected(${needs}, 'water')", True),
        ("selected(${needs}, 'shelter')", False),
        ("selected(${unanswered}, 'water')", False),
        ("count-selected(${needs}) = 2", True),
        ("count-selected(${empty_list}) = 0", True),
        ("count-selected(${unanswered})", 0.0),
        ("string-length(${name})", 3.0),
        ("string-length(${unanswered})", 0.0),
        ("if(${age} >= 18, 'adult', 'child')", "adult"),
        ("if(${unanswered} = '', 'none', 'some')", "none"),
        ("${age} + ${size} * 2", 44.0),
        ("(${age} + ${size}) * 2", 78.0),
        ("10 div 4", 2.5),
        ("10 mod 4", 2.0),
        ("-3 + 1", -2.0),
        ("${ratio} * 2 = 3", True),
        ("1 + 2 = 3 and 2 > 1", True),
        ("regex(${name}, '^[A-Z][a-z]+$')", True),
        ("regex(${name}, '^[0-9]+$')", False),
        ("concat(${name}, '-', ${age})", "Ana-34"),
        ("coalesce(${unanswered}, 'x')", "x"),
        ("round(2.5)", 3.0),
        ("int(-2.7)", -2.0),
        ("true() and not(false())", True),
    ],
)
def test_evaluates(source: str, expected: object) -> None:
    assert run(source) == expected


def test_arithmetic_with_unanswered_is_nan() -> None:
    result = run("${unanswered} + 1")
    assert isinstance(result, float)
    assert math.isnan(result)
    assert to_string(run("1 div 0")) == "Infinity"


@pytest.mark.parametrize(
    ("source", "current", "expected"),
    [
        (". >= 0 and . <= 50", 7, True),
        (". >= 0 and . <= 50", 51, False),
        (". = ${size}", "5", True),
        ("regex(., '^[0-9]{8}$')", "12345678", True),
        ("regex(., '^[0-9]{8}$')", "1234", False),
        ("not(selected(., 'none') and count-selected(.) > 1)", ["none", "food"], False),
        ("not(selected(., 'none') and count-selected(.) > 1)", ["none"], True),
        ("string-length(.) <= 3", "abcd", False),
    ],
)
def test_current_value_in_constraints(source: str, current: Answer, expected: bool) -> None:
    assert run(source, current=current) is expected


def test_regex_refuses_long_input() -> None:
    long_text = "a" * (REGEX_INPUT_LIMIT + 1)
    assert run("regex(., '^a+$')", current=long_text) is False
    assert run("regex(., '^a+$')", current="a" * REGEX_INPUT_LIMIT) is True


def test_choice_columns_in_filters() -> None:
    assert run("use = 'both' and name != ${country}", columns={"use": "both", "name": "COL"})
    assert not run("use = 'both'", columns={"use": "to", "name": "COL"})


def test_holds_without_expression() -> None:
    assert holds(None, Context({}))


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("${nobody} = 1", "refers to no question"),
        ("foo(${age})", "function foo() is not supported"),
        ("eval('1')", "function eval() is not supported"),
        ("age > 3", "unexpected word 'age'"),
        ("${age} >", "ends too early"),
        ("(${age} > 3", "expected ')'"),
        ("${age} > 3)", "unexpected ')'"),
        ("if(${age}, 1)", "if() takes 3-3 arguments"),
        ("regex(${name}, ${name})", "must be a quoted string"),
        ("regex(${name}, '(')", "bad regex pattern"),
        ("${age} # 3", "cannot read"),
        ("", "is empty"),
        ("/data/age = 3", "cannot read"),
        ("${a b} = 1", "is not a question name"),
    ],
)
def test_rejects(source: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(fragment)):
        parse(source, known=KNOWN)


def test_dot_only_where_allowed() -> None:
    with pytest.raises(InvalidInput, match="only means something in a constraint"):
        parse(". > 3", known=KNOWN)


def test_references_are_collected() -> None:
    expression = parse("${age} > 3 and selected(${needs}, 'food')", known=KNOWN)
    assert expression.references == {"age", "needs"}
