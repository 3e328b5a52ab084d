"""The engine on real forms: pages, skip logic, checks in four languages, what gets stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from cautiva.surveys.defaults import DEFAULT_FORM, Option, Row, Sheets, T, write_workbook
from cautiva.surveys.engine import (
    finalize,
    next_page,
    previous_page,
    validate_all,
    validate_page,
    visible_choices,
    visible_questions,
)
from cautiva.surveys.expressions import Answer
from cautiva.surveys.forms import Form
from cautiva.surveys.xlsform import load_xlsform
from factories import SURVEY_BANDS, full_answers

YN = [
    Option("yn", "yes", T("Sí", "Yes", "Oui", "Wi")),
    Option("yn", "no", T("No", "No", "Non", "Non")),
]


def label(text: str) -> T:
    return T(text + " es", text, text + " fr", text + " ht")


@pytest.fixture(scope="module")
def form() -> Form:
    return load_xlsform(DEFAULT_FORM)


@pytest.fixture
def skip_form(tmp_path: Path) -> Form:
    """Four pages; the second shows only to people who travel with others."""
    sheets = Sheets(
        form_id="skip",
        title=label("Skip"),
        survey=[
            Row("begin_group", "first", label("First")),
            Row("select_one yn", "with_others", label("With others?"), required=True),
            Row("acknowledge", "ok", label("I understand")),
            Row("end_group", ""),
            Row("begin_group", "others", label("Others"), relevant="${with_others} = 'yes'"),
            Row(
                "integer",
                "companions",
                label("How many?"),
                required=True,
                constraint=". > 0",
                constraint_message=T("Más de 0", "More than 0", "Plus de 0", "Plis pase 0"),
            ),
            Row("calculate", "party", calculation="${companions} + 1"),
            Row("end_group", ""),
            Row("begin_group", "ages", label("Ages")),
            Row("decimal", "oldest", label("Oldest age"), relevant="${companions} > 2"),
            Row("end_group", ""),
            Row("begin_group", "last", label("Last")),
            Row("note", "bye", label("Bye")),
            Row("end_group", ""),
        ],
        choices=YN,
    )
    path = tmp_path / "skip.xlsx"
    write_workbook(sheets, path)
    return load_xlsform(path)


def names(pages: object) -> object:
    return getattr(pages, "name", None)


def test_pages_skip_hidden_groups(skip_form: Form) -> None:
    alone: dict[str, Answer] = {"with_others": "no"}
    assert names(next_page(skip_form, None, {})) == "first"
    assert names(next_page(skip_form, "first", alone)) == "last"
    assert names(previous_page(skip_form, "last", alone)) == "first"
    group: dict[str, Answer] = {"with_others": "yes", "companions": 1}
    assert names(next_page(skip_form, "first", group)) == "others"
    # "ages" shows only its one question, and that one only for big groups.
    assert names(next_page(skip_form, "others", group)) == "last"
    big: dict[str, Answer] = {"with_others": "yes", "companions": 5}
    assert names(next_page(skip_form, "others", big)) == "ages"
    assert names(previous_page(skip_form, "first", big)) is None
    assert next_page(skip_form, "last", big) is None


def test_hidden_answers_are_never_stored(skip_form: Form) -> None:
    answers: dict[str, Answer] = {
        "with_others": "no",
        "ok": "OK",
        "companions": 5,
        "oldest": 70.0,
        "stranger": "x",
    }
    assert finalize(skip_form, answers) == {"with_others": "no", "ok": "OK"}
    answers["with_others"] = "yes"
    assert finalize(skip_form, answers) == {
        "with_others": "yes",
        "ok": "OK",
        "companions": 5,
        "party": 6,
        "oldest": 70.0,
    }


def test_validate_page_uses_earlier_answers(skip_form: Form) -> None:
    clean, errors = validate_page(
        skip_form, "others", {"companions": "0"}, "fr", answers={"with_others": "yes"}
    )
    assert clean == {}
    assert errors == {"companions": "Plus de 0"}
    clean, errors = validate_page(
        skip_form, "ages", {"oldest": "61,5"}, "en", answers={"with_others": "yes", "companions": 3}
    )
    assert (clean, errors) == ({"oldest": 61.5}, {})


def test_acknowledge_and_hidden_inputs(skip_form: Form) -> None:
    clean, errors = validate_page(skip_form, "first", {"with_others": "no", "ok": "on"}, "en")
    assert (clean, errors) == ({"with_others": "no", "ok": "OK"}, {})
    # Input for a page that is hidden is dropped, not stored and not an error.
    clean, errors = validate_page(
        skip_form, "others", {"companions": "abc"}, "en", answers={"with_others": "no"}
    )
    assert (clean, errors) == ({}, {})


@pytest.mark.parametrize(
    ("lang", "required", "too_big"),
    [
        ("es", "Esta pregunta es obligatoria.", "Escriba un número del 1 al 50."),
        ("en", "This question is required.", "Write a number from 1 to 50."),
        ("fr", "Cette question est obligatoire.", "Écrivez un nombre entre 1 et 50."),
        ("ht", "Ou dwe reponn kesyon sa a.", "Ekri yon nimewo ant 1 ak 50."),
        ("de", "Esta pregunta es obligatoria.", "Escriba un número del 1 al 50."),
    ],
)
def test_messages_in_each_language(form: Form, lang: str, required: str, too_big: str) -> None:
    assert validate_page(form, "group", {"group_size": ""}, lang) == (
        {},
        {"group_size": required},
    )
    assert validate_page(form, "group", {"group_size": "51"}, lang)[1] == {"group_size": too_big}


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("abc", "Write a whole number, with no decimals."),
        ("2.5", "Write a whole number, with no decimals."),
        ("4", None),
        (" 4 ", None),
    ],
)
def test_integer_coercion(form: Form, raw: str, error: str | None) -> None:
    clean, errors = validate_page(form, "group", {"group_size": raw}, "en")
    assert errors.get("group_size") == error
    if error is None:
        assert clean == {"group_size": 4}


def test_composition_must_add_up(form: Form) -> None:
    inputs = dict.fromkeys(SURVEY_BANDS, "0") | {"women_18_59": "1", "girls_0_5": "2"}
    clean, errors = validate_page(form, "who", inputs, "en", answers={"group_size": 3})
    assert errors == {}
    assert clean["girls_0_5"] == 2 and "children" not in clean
    stored = finalize(form, {"group_size": 3, **clean})
    assert (stored["children"], stored["females"], stored["males"]) == (2, 3, 0)
    clean, errors = validate_page(form, "who", inputs, "ht", answers={"group_size": 4})
    assert errors == {
        "men_60": "Total la dwe egal ak kantite moun ki nan gwoup ou. Tanpri verifye chif yo."
    }


def test_choice_filter_and_membership(form: Form) -> None:
    coming_from = form.question("coming_from")
    going_to = form.question("going_to")
    assert coming_from is not None and going_to is not None
    assert "not_sure" not in [c.name for c in visible_choices(form, coming_from, {})]
    assert "not_sure" in [c.name for c in visible_choices(form, going_to, {})]
    inputs = {
        "nationality": "VEN",
        "coming_from": "not_sure",
        "going_to": "not_sure",
        "stay": "days",
    }
    clean, errors = validate_page(form, "journey", inputs, "es")
    assert errors == {"coming_from": "Elija una de las opciones de la lista."}
    inputs["coming_from"] = "Atlantis"
    assert "coming_from" in validate_page(form, "journey", inputs, "es")[1]
    inputs["coming_from"] = "COL"
    clean, errors = validate_page(form, "journey", inputs, "es")
    assert errors == {} and clean["going_to"] == "not_sure"


def test_other_nationality_shows_only_when_chosen(form: Form) -> None:
    journey = form.page("journey")
    shown = [q.name for q in visible_questions(form, journey, {"nationality": "HTI"})]
    assert "nationality_other" not in shown
    shown = [q.name for q in visible_questions(form, journey, {"nationality": "other"})]
    assert "nationality_other" in shown
    inputs = {
        "nationality": "HTI",
        "nationality_other": "Narnia",
        "coming_from": "DOM",
        "going_to": "USA",
        "stay": "hours",
    }
    clean, errors = validate_page(form, journey, inputs, "en")
    assert errors == {} and "nationality_other" not in clean
    inputs["nationality"] = "other"
    inputs["nationality_other"] = ""
    assert validate_page(form, journey, inputs, "en")[1] == {
        "nationality_other": "This question is required."
    }


def test_risks_skip_logic_and_exclusive_answers(form: Form) -> None:
    page = form.page("needs_page")
    shown = [q.name for q in visible_questions(form, page, {"risks": ["robbery"]})]
    assert shown == ["needs", "risks", "risks_help"]
    for quiet in (["none"], ["prefer_not"], []):
        shown = [q.name for q in visible_questions(form, page, {"risks": quiet})]
        assert shown == ["needs", "risks"]
    clean, errors = validate_page(
        form, page, {"needs": ["food", "none"], "risks": ["none", "robbery"]}, "fr"
    )
    assert errors == {
        "needs": "« Rien pour le moment » ne peut pas aller avec d'autres réponses.",
        "risks": "« Rien de tout cela » et « Je préfère ne pas répondre » ne peuvent pas "
        "aller avec d'autres réponses.",
    }
    clean, errors = validate_page(form, page, {"needs": ["food"], "risks": ["robbery"]}, "fr")
    assert errors == {"risks_help": "Cette question est obligatoire."}
    clean, errors = validate_page(
        form,
        page,
        {"needs": ["food", "water", "food"], "risks": ["robbery"], "risks_help": "yes"},
        "en",
    )
    assert errors == {}
    assert clean == {"needs": ["food", "water"], "risks": ["robbery"], "risks_help": "yes"}


def test_validate_all_accepts_a_complete_response(form: Form) -> None:
    clean, errors = validate_all(form, full_answers(), "en")
    assert errors == {}
    stored = finalize(form, clean)
    assert stored["children"] == 1 and stored["females"] == 1 and stored["males"] == 1
    assert "risks_help" not in stored and "welcome" not in stored


def test_validate_all_reports_every_problem(form: Form) -> None:
    response = full_answers()
    del response["group_size"]
    response["favourite_colour"] = "blue"
    response["welcome"] = "hello"
    response["stay"] = "forever"
    response["needs"] = "none food"
    response["nationality_other"] = "hidden, so dropped"
    clean, errors = validate_all(form, response, "en")
    assert errors == {
        "favourite_colour": "unknown question",
        "welcome": "This question takes no answer.",
        "group_size": "This question is required.",
        "men_60": "The numbers must add up to the number of people in your group. "
        "Please check them.",
        "stay": "Choose one of the options in the list.",
        "needs": "'Nothing right now' cannot go with other answers.",
    }
    assert "nationality_other" not in clean
    assert validate_all(form, {"group_size": True}, "en")[1]["group_size"] == (
        "Please check this answer."
    )
