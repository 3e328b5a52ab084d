"""A published survey form, as the splash portal sees it: pages of questions in several languages.

Texts are kept per language code (`es`, `en`, `fr`, `ht`); a text missing in one language falls
back to the form's default language, then to any language that has it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from cautiva.surveys.expressions import Expression

Texts = Mapping[str, str]


class QuestionType(StrEnum):
    """The XLSForm question types a splash page can show."""

    NOTE = "note"
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    SELECT_ONE = "select_one"
    SELECT_MULTIPLE = "select_multiple"
    ACKNOWLEDGE = "acknowledge"
    CALCULATE = "calculate"


ANSWERLESS = frozenset({QuestionType.NOTE, QuestionType.CALCULATE})
"""Types the person never answers: a note is read, a calculate is computed."""


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a choice list; `columns` holds the extra columns choice_filter reads."""

    name: str
    labels: Texts
    columns: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Question:
    """One row of the survey sheet, with its expressions already parsed."""

    name: str
    type: QuestionType
    labels: Texts = field(default_factory=dict)
    hints: Texts = field(default_factory=dict)
    required: bool = False
    required_messages: Texts = field(default_factory=dict)
    relevant: Expression | None = None
    constraint: Expression | None = None
    constraint_messages: Texts = field(default_factory=dict)
    choices: str | None = None
    choice_filter: Expression | None = None
    default: str | None = None
    calculation: Expression | None = None
    row: int = 0


@dataclass(frozen=True, slots=True)
class Page:
    """One group of the form, shown as one screen; `relevant` hides the whole page."""

    name: str
    labels: Texts
    questions: tuple[Question, ...]
    relevant: Expression | None = None


@dataclass(frozen=True, slots=True)
class Form:
    """A published form: every response records its `form_id` and `version`."""

    form_id: str
    version: str
    titles: Texts
    languages: tuple[str, ...]
    default_language: str
    pages: tuple[Page, ...]
    choice_lists: Mapping[str, tuple[Choice, ...]] = field(default_factory=dict)

    def questions(self) -> Iterator[Question]:
        """Every question in form order."""
        for page in self.pages:
            yield from page.questions

    def question(self, name: str) -> Question | None:
        """The question called `name`, if any."""
        return next((q for q in self.questions() if q.name == name), None)

    def page(self, name: str) -> Page:
        """The page called `name`; KeyError when there is none."""
        for page in self.pages:
            if page.name == name:
                return page
        raise KeyError(name)

    def choices_of(self, question: Question) -> tuple[Choice, ...]:
        """The whole choice list of a select question, before any filter."""
        return self.choice_lists.get(question.choices or "", ())

    def text(self, texts: Texts, lang: str) -> str:
        """`texts` in `lang`, else in the default language, else in any language."""
        return translate(texts, lang, self.default_language)


def translate(texts: Texts, lang: str, default_language: str) -> str:
    """`texts` in `lang`, else in `default_language`, else the first one there is."""
    if lang in texts:
        return texts[lang]
    if default_language in texts:
        return texts[default_language]
    return next(iter(texts.values()), "")
