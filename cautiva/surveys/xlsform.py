"""Read an XLSForm workbook into a `Form`, keeping only what a splash page can show.

pyxform reads the sheets and runs its own checks first, so the usual XLSForm mistakes come back
in the words survey teams know from KoboToolbox and ODK. Then the splash-page subset is enforced
row by row: anything outside it is refused with the sheet, the row and the feature named.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import zipfile
from collections.abc import Mapping, Sequence
from io import BytesIO
from os import PathLike
from typing import Any

from pyxform.errors import PyXFormError  # type: ignore[import-untyped]
from pyxform.xls2json_backends import get_xlsform  # type: ignore[import-untyped]
from pyxform.xls2xform import convert  # type: ignore[import-untyped]

from cautiva.errors import InvalidInput
from cautiva.surveys.expressions import Expression, parse
from cautiva.surveys.forms import Choice, Form, Page, Question, QuestionType

Row = Mapping[str, str]

_LANGUAGE_CODE = re.compile(r"\(\s*([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\s*\)\s*$")
_TRANSLATED = ("label", "hint", "constraint_message", "required_message")
_PLAIN = ("type", "name", "required", "relevant", "constraint", "choice_filter", "default")
_CALCULATION = "calculation"
# These change only how a question looks in ODK Collect; a splash page can do without them.
_IGNORED = ("appearance", "guidance_hint", "image", "big-image", "audio", "video", "media")
_SIMPLE_TYPES = {
    "note": QuestionType.NOTE,
    "text": QuestionType.TEXT,
    "string": QuestionType.TEXT,
    "integer": QuestionType.INTEGER,
    "int": QuestionType.INTEGER,
    "decimal": QuestionType.DECIMAL,
    "acknowledge": QuestionType.ACKNOWLEDGE,
    "calculate": QuestionType.CALCULATE,
}
_SELECT_TYPES = {
    "select_one": QuestionType.SELECT_ONE,
    "select_multiple": QuestionType.SELECT_MULTIPLE,
}
_TRUE = frozenset({"yes", "true", "true()", "1"})
_FALSE = frozenset({"no", "false", "false()", "0"})


def load_xlsform(source: str | PathLike[str] | bytes) -> Form:
    """Read the workbook at `source` (a path, or the .xlsx bytes) into a checked `Form`."""
    if isinstance(source, bytes):
        # pyxform guesses a format from bytes it does not recognise (and can crash on text):
        # only an Office Open XML workbook, which is a ZIP archive, goes to it.
        if not source.startswith(b"PK\x03\x04"):
            raise InvalidInput("not an .xlsx workbook (save the form as Excel .xlsx)")
        source = BytesIO(source)  # type: ignore[assignment]
    try:
        data = get_xlsform(source)
    except PyXFormError as err:
        raise InvalidInput(f"cannot read the workbook: {err}") from None
    except (TypeError, ValueError, KeyError, OSError, zipfile.BadZipFile) as err:
        # pyxform fails with plain errors on bytes that are no workbook at all.
        raise InvalidInput(f"cannot read the workbook: {type(err).__name__}: {err}") from None
    try:
        convert(xlsform=_for_pyxform(data), warnings=[])
    except PyXFormError as err:
        raise InvalidInput(f"XLSForm: {err}") from None
    return _Reader(data).form()


def _for_pyxform(data: Any) -> dict[str, Any]:
    """A copy of the sheets pyxform can check: translated form titles are our own extension."""
    sheets: dict[str, Any] = copy.deepcopy(dataclasses.asdict(data))
    settings = []
    for row in sheets.get("settings") or []:
        titles = {h: v for h, v in row.items() if "::" in h and _column(h) == "form_title"}
        plain = {h: v for h, v in row.items() if h not in titles}
        if titles and "form_title" not in plain:
            plain["form_title"] = next(iter(titles.values()))
        settings.append(plain)
    sheets["settings"] = settings
    if sheets.get("settings_header"):
        header = {
            h: v
            for h, v in sheets["settings_header"][0].items()
            if not ("::" in h and _column(h) == "form_title")
        }
        header.setdefault("form_title", None)
        sheets["settings_header"] = [header]
    return sheets


def _language(header: str, default_language: str) -> str:
    """The code of the language a column is written in: 'label::Español (es)' -> 'es'."""
    if "::" not in header:
        return default_language
    match = _LANGUAGE_CODE.search(header)
    if match is None:
        raise InvalidInput(
            f"column {header!r} needs a language code at the end, like 'label::English (en)'"
        )
    return match.group(1).lower()


def _column(header: str) -> str:
    """The column a header belongs to, without its language: 'label::English (en)' -> 'label'."""
    base = header.split("::", 1)[0].strip().lower()
    aliases = {"constraint message": "constraint_message", "list name": "list_name"}
    return aliases.get(base, base.replace(" ", "_"))


class _Reader:
    """One pass over the sheets pyxform read; raises on the first row outside the subset."""

    def __init__(self, data: Any) -> None:
        self.survey: Sequence[Row] = data.survey or []
        self.choice_rows: Sequence[Row] = data.choices or []
        settings: Sequence[Row] = data.settings or []
        self.settings: Row = settings[0] if settings else {}
        self.default_language = self._default_language()
        self.languages: list[str] = []
        self.choice_lists = self._choices()
        self.names = {
            row["name"].strip() for row in self.survey if row.get("name") and not _is_group_row(row)
        }

    def _default_language(self) -> str:
        declared = self.settings.get("default_language", "").strip()
        if declared:
            match = _LANGUAGE_CODE.search(declared)
            return (match.group(1) if match else declared).lower()
        for row in (*self.survey, *self.choice_rows):
            for header in row:
                if _column(header) == "label" and "::" in header:
                    return _language(header, "")
        return "en"

    def _texts(self, row: Row, column: str, where: str) -> dict[str, str]:
        texts: dict[str, str] = {}
        for header, value in row.items():
            if _column(header) == column and value.strip():
                try:
                    lang = _language(header, self.default_language)
                except InvalidInput as err:
                    raise InvalidInput(f"{where}: {err}") from None
                texts[lang] = value.strip()
                if lang not in self.languages:
                    self.languages.append(lang)
        return texts

    def _choices(self) -> dict[str, tuple[Choice, ...]]:
        lists: dict[str, list[Choice]] = {}
        for index, row in enumerate(self.choice_rows):
            where = f"choices row {index + 2}"
            if not row:
                continue
            list_name = next((v for h, v in row.items() if _column(h) == "list_name"), "")
            name = row.get("name", "").strip()
            if not list_name or not name:
                raise InvalidInput(f"{where}: a choice needs a list_name and a name")
            columns = {
                header: value
                for header, value in row.items()
                if _column(header) not in ("list_name", "name", "label", *_IGNORED)
            }
            choice = Choice(name, self._texts(row, "label", where), columns)
            lists.setdefault(list_name.strip(), []).append(choice)
        return {name: tuple(choices) for name, choices in lists.items()}

    def _expression(self, row: Row, column: str, where: str, **options: Any) -> Expression | None:
        source = row.get(column, "").strip()
        if not source:
            return None
        try:
            return parse(source, known=self.names, **options)
        except InvalidInput as err:
            raise InvalidInput(f"{where}: {column}: {err}") from None

    def _check_columns(self, row: Row, allowed: Sequence[str], where: str) -> None:
        for header in row:
            column = _column(header)
            if column in _IGNORED or column.startswith("media"):
                continue
            if column not in allowed:
                raise InvalidInput(f"{where}: column {header!r} is not supported on a splash page")

    def form(self) -> Form:
        """Build the form, page by page."""
        form_id = self.settings.get("form_id", "").strip()
        version = self.settings.get("version", "").strip()
        if not form_id:
            raise InvalidInput("settings: form_id is missing")
        if not version:
            raise InvalidInput("settings: version is missing")
        pages = self._pages()
        titles = self._texts(self.settings, "form_title", "settings")
        if not titles:
            titles = {self.default_language: form_id}
        languages = [self.default_language] + [
            lang for lang in self.languages if lang != self.default_language
        ]
        return Form(
            form_id=form_id,
            version=version,
            titles=titles,
            languages=tuple(languages),
            default_language=self.default_language,
            pages=tuple(pages),
            choice_lists=self.choice_lists,
        )

    def _pages(self) -> list[Page]:
        pages: list[Page] = []
        group: Page | None = None
        loose: list[Question] = []
        questions: list[Question] = []

        def close_loose() -> None:
            if loose:
                pages.append(Page(f"page_{len(pages) + 1}", {}, tuple(loose)))
                loose.clear()

        for index, row in enumerate(self.survey):
            where = f"survey row {index + 2}"
            kind = " ".join(row.get("type", "").split()).lower()
            if not row or not kind:
                continue
            if kind in ("begin_group", "begin group"):
                if group is not None:
                    raise InvalidInput(f"{where}: a group inside a group is not supported")
                self._check_columns(row, ("type", "name", "label", "relevant"), where)
                close_loose()
                group = Page(
                    row.get("name", "").strip(),
                    self._texts(row, "label", where),
                    (),
                    self._expression(row, "relevant", where),
                )
            elif kind in ("end_group", "end group"):
                if group is None:
                    raise InvalidInput(f"{where}: end_group without begin_group")
                pages.append(dataclasses.replace(group, questions=tuple(questions)))
                questions.clear()
                group = None
            else:
                question = self._question(row, kind, where, index + 2)
                (questions if group is not None else loose).append(question)
        if group is not None:
            raise InvalidInput(f"survey: group {group.name!r} has no end_group")
        close_loose()
        return pages

    def _question(self, row: Row, kind: str, where: str, row_number: int) -> Question:
        words = kind.split()
        list_name: str | None = None
        if words[0] in _SELECT_TYPES and len(words) == 2:
            question_type = _SELECT_TYPES[words[0]]
            list_name = row["type"].split()[1]
            if list_name not in self.choice_lists:
                raise InvalidInput(f"{where}: choice list {list_name!r} is missing")
        elif kind in _SIMPLE_TYPES:
            question_type = _SIMPLE_TYPES[kind]
        else:
            shown = row.get("type", "").strip()
            raise InvalidInput(f"{where}: type {shown!r} is not supported on a splash page")
        allowed = [*_PLAIN, *_TRANSLATED]
        if question_type == QuestionType.CALCULATE:
            allowed.append(_CALCULATION)
        if question_type not in _SELECT_TYPES.values():
            allowed.remove("choice_filter")
        self._check_columns(row, allowed, where)
        name = row.get("name", "").strip()
        columns: list[str] = ["name"]
        for choice in self.choice_lists.get(list_name or "", ()):
            columns.extend(header for header in choice.columns if header not in columns)
        return Question(
            name=name,
            type=question_type,
            labels=self._texts(row, "label", where),
            hints=self._texts(row, "hint", where),
            required=self._required(row, where),
            required_messages=self._texts(row, "required_message", where),
            relevant=self._expression(row, "relevant", where),
            constraint=self._expression(row, "constraint", where, allow_current=True),
            constraint_messages=self._texts(row, "constraint_message", where),
            choices=list_name,
            choice_filter=self._expression(row, "choice_filter", where, columns=columns),
            default=row.get("default", "").strip() or None,
            calculation=self._expression(row, _CALCULATION, where),
            row=row_number,
        )

    def _required(self, row: Row, where: str) -> bool:
        value = row.get("required", "").strip().lower()
        if not value or value in _FALSE:
            return False
        if value in _TRUE:
            return True
        raise InvalidInput(f"{where}: required must be yes or no, not {value!r}")


def _is_group_row(row: Row) -> bool:
    kind = " ".join(row.get("type", "").split()).lower()
    return kind.startswith(("begin", "end"))
