"""Reading XLSForm workbooks: the shipped forms, and the refusal of what a splash page can't do."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from cautiva.errors import InvalidInput
from cautiva.surveys.defaults import DEFAULT_FORM, FOLLOWUP_FORM, write_default_forms
from cautiva.surveys.forms import QuestionType
from cautiva.surveys.xlsform import load_xlsform

LANGS = ("es", "en", "fr", "ht")
HEAD = ["type", "name", "label::English (en)", "label::Español (es)"]
SETTINGS = [["form_id", "version", "default_language"], ["t", "1", "English (en)"]]
CHOICES = [["list_name", "name", "label::English (en)"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]


def workbook(
    survey: list[list[str]],
    choices: list[list[str]] | None = None,
    settings: list[list[str]] | None = None,
) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    for title, rows in (("choices", choices or CHOICES), ("settings", settings or SETTINGS)):
        extra = book.create_sheet(title)
        for row in rows:
            extra.append(row)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_default_form_in_four_languages() -> None:
    form = load_xlsform(DEFAULT_FORM)
    assert (form.form_id, form.version) == ("cautiva_default", "2026.11.1")
    assert form.languages == LANGS
    assert form.default_language == "es"
    assert set(form.titles) == set(LANGS)
    assert [page.name for page in form.pages] == [
        "group",
        "who",
        "journey",
        "needs_page",
        "messages",
    ]
    for page in form.pages:
        assert set(page.labels) == set(LANGS)
        for question in page.questions:
            if question.type != QuestionType.CALCULATE:
                assert set(question.labels) == set(LANGS), question.name
            if question.constraint_messages:
                assert set(question.constraint_messages) == set(LANGS), question.name
    for choices in form.choice_lists.values():
        for choice in choices:
            assert set(choice.labels) == set(LANGS), choice.name
    names = {q.name for q in form.questions()}
    assert {"group_size", "girls_0_5", "men_60", "nationality", "coming_from", "going_to"} <= names
    assert {"stay", "needs", "risks", "consent_messages", "children", "females"} <= names
    nationalities = [c.name for c in form.choice_lists["nationality"]]
    assert nationalities == ["VEN", "COL", "ECU", "PER", "HTI", "CUB", "other"]
    needs = [c.name for c in form.choice_lists["needs"]]
    assert needs[-1] == "none" and "protection" in needs and len(needs) == 11
    risks = form.question("risks")
    assert risks is not None and risks.type == QuestionType.SELECT_MULTIPLE
    help_question = form.question("risks_help")
    assert help_question is not None and help_question.relevant is not None
    coming_from = form.question("coming_from")
    assert coming_from is not None and coming_from.choice_filter is not None


def test_followup_form_is_short() -> None:
    form = load_xlsform(FOLLOWUP_FORM)
    assert form.form_id == "cautiva_followup"
    assert form.languages == LANGS
    assert len(form.pages) == 3
    assert [q.name for q in form.questions() if q.type != QuestionType.NOTE] == [
        "current_country",
        "current_place",
        "going_to",
        "going_to_place",
        "needs",
    ]


def test_committed_workbooks_are_up_to_date(tmp_path: Path) -> None:
    for written in write_default_forms(tmp_path):
        committed = DEFAULT_FORM.parent / written.name
        assert written.read_bytes() == committed.read_bytes(), f"rebuild {written.name}"


def test_reads_bytes_and_ungrouped_pages() -> None:
    data = workbook(
        [
            [*HEAD, "appearance", "hint::English (en)", "default"],
            ["text", "first", "First", "Primero", "multiline", "A hint", ""],
            ["integer", "second", "Second", "Segundo", "", "", "3"],
            ["begin_group", "grp", "Group", "Grupo", "field-list"],
            ["select_one yn", "third", "Third", "Tercero"],
            ["end_group", ""],
            ["note", "fourth", "Fourth", "Cuarto"],
        ]
    )
    form = load_xlsform(data)
    assert [(p.name, [q.name for q in p.questions]) for p in form.pages] == [
        ("page_1", ["first", "second"]),
        ("grp", ["third"]),
        ("page_3", ["fourth"]),
    ]
    assert form.languages == ("en", "es")
    first = form.question("first")
    second = form.question("second")
    assert first is not None and first.hints == {"en": "A hint"} and first.row == 2
    assert second is not None and second.default == "3"


def test_label_without_language_is_the_default_language() -> None:
    form = load_xlsform(workbook([["type", "name", "label"], ["text", "q", "Question"]]))
    question = form.question("q")
    assert question is not None and question.labels == {"en": "Question"}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [HEAD, ["text", "a", "A", "A"], ["geopoint", "where", "Where", "Dónde"]],
            "survey row 3: type 'geopoint' is not supported on a splash page",
        ),
        (
            [HEAD, ["image", "photo", "Photo", "Foto"]],
            "survey row 2: type 'image' is not supported",
        ),
        (
            [HEAD, ["begin_repeat", "r", "R", "R"], ["text", "a", "A", "A"], ["end_repeat", ""]],
            "survey row 2: type 'begin_repeat' is not supported",
        ),
        (
            [
                HEAD,
                ["begin_group", "g1", "G", "G"],
                ["begin_group", "g2", "G", "G"],
                ["text", "a", "A", "A"],
                ["end_group", ""],
                ["end_group", ""],
            ],
            "survey row 3: a group inside a group is not supported",
        ),
        (
            [[*HEAD, "trigger"], ["text", "a", "A", "A"], ["text", "b", "B", "B", "${a}"]],
            "survey row 3: column 'trigger' is not supported",
        ),
        (
            [[*HEAD, "read_only"], ["text", "a", "A", "A", "yes"]],
            "survey row 2: column 'read_only' is not supported",
        ),
        (
            [[*HEAD, "required"], ["text", "a", "A", "A", "${a} = ''"]],
            "survey row 2: required must be yes or no",
        ),
        (
            [[*HEAD, "relevant"], ["text", "a", "A", "A"], ["text", "b", "B", "B", "max(${a})"]],
            "survey row 3: relevant: expression 'max(${a})': function max() is not supported",
        ),
        (
            [[*HEAD, "constraint"], ["text", "a", "A", "A", "a > 3"]],
            "survey row 2: constraint: expression 'a > 3': unexpected word 'a'",
        ),
        (
            [["type", "name", "label::English"], ["text", "a", "A"]],
            "survey row 2: column 'label::English' needs a language code",
        ),
        (
            [[*HEAD, "choice_filter"], ["text", "a", "A", "A", "name = 'x'"]],
            "survey row 2: column 'choice_filter' is not supported",
        ),
    ],
)
def test_rejects_what_a_splash_page_cannot_do(rows: list[list[str]], message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        load_xlsform(workbook(rows))


def test_repeat_count_is_refused() -> None:
    rows = [
        [*HEAD, "repeat_count"],
        ["integer", "n", "N", "N"],
        ["begin_repeat", "r", "R", "R", "${n}"],
        ["text", "a", "A", "A"],
        ["end_repeat", ""],
    ]
    with pytest.raises(InvalidInput, match="survey row 3"):
        load_xlsform(workbook(rows))


def test_choice_filter_reads_choice_columns() -> None:
    choices = [["list_name", "name", "label::English (en)", "region"], ["c", "x", "X", "north"]]
    rows = [[*HEAD, "choice_filter"], ["select_one c", "a", "A", "A", "region = 'north'"]]
    question = load_xlsform(workbook(rows, choices=choices)).question("a")
    assert question is not None and question.choice_filter is not None
    wrong = [[*HEAD, "choice_filter"], ["select_one c", "a", "A", "A", "zone = 'north'"]]
    with pytest.raises(
        InvalidInput, match=r"survey row 2: choice_filter: .*unexpected word 'zone'"
    ):
        load_xlsform(workbook(wrong, choices=choices))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ([["version"], ["1"]], "settings: form_id is missing"),
        ([["form_id"], ["t"]], "settings: version is missing"),
    ],
)
def test_form_id_and_version_are_required(settings: list[list[str]], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_xlsform(workbook([HEAD, ["text", "a", "A", "A"]], settings=settings))


def test_standard_xlsform_errors_come_from_pyxform() -> None:
    with pytest.raises(InvalidInput, match=r"XLSForm: \[row : 3\]"):
        load_xlsform(workbook([HEAD, ["text", "a", "A", "A"], ["text", "a", "B", "B"]]))
    with pytest.raises(InvalidInput, match="XLSForm: "):
        load_xlsform(workbook([HEAD, ["select_one missing", "a", "A", "A"]]))


def test_unknown_reference_is_refused() -> None:
    rows = [[*HEAD, "relevant"], ["text", "a", "A", "A", "${ghost} = 'x'"]]
    with pytest.raises(InvalidInput, match="ghost"):
        load_xlsform(workbook(rows))


def test_not_a_workbook() -> None:
    with pytest.raises(InvalidInput):
        load_xlsform(b"\x00\x01 definitely not a spreadsheet")


@pytest.mark.parametrize("junk", [b"", b"not a workbook", b"PK\x03\x04broken zip"])
def test_bytes_that_are_no_workbook_are_refused_cleanly(junk: bytes) -> None:
    with pytest.raises(InvalidInput):
        load_xlsform(junk)
