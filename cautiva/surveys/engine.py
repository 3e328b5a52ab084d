"""What the splash portal asks of a form: which questions show, whether answers hold, what to keep.

Pure functions over a `Form` and a dict of answers. A question that is not relevant is treated
as unanswered by every expression, and its answer is never stored: people who skip a page are
not asked, and not recorded, about it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import date

from cautiva.surveys.expressions import Answer, Context, Value, evaluate, holds
from cautiva.surveys.forms import ANSWERLESS, Choice, Form, Page, Question, QuestionType

Answers = Mapping[str, Answer]

TEXT_LIMIT = 500
"""Longest free-text answer kept; a splash page is no place for essays, nor for pasted files."""

_INTEGER = re.compile(r"[+-]?\d{1,12}")
_DECIMAL = re.compile(r"[+-]?(\d{1,12}(\.\d*)?|\.\d+)")
_ACKNOWLEDGED = frozenset({"ok", "on", "yes", "true", "1"})
_NOT_ACKNOWLEDGED = frozenset({"", "no", "false", "0", "off"})

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "required": {
        "es": "Esta pregunta es obligatoria.",
        "en": "This question is required.",
        "fr": "Cette question est obligatoire.",
        "ht": "Ou dwe reponn kesyon sa a.",
    },
    "integer": {
        "es": "Escriba un número entero, sin decimales.",
        "en": "Write a whole number, with no decimals.",
        "fr": "Écrivez un nombre entier, sans virgule.",
        "ht": "Ekri yon nimewo ki pa gen vigil.",
    },
    "decimal": {
        "es": "Escriba un número.",
        "en": "Write a number.",
        "fr": "Écrivez un nombre.",
        "ht": "Ekri yon nimewo.",
    },
    "choice": {
        "es": "Elija una de las opciones de la lista.",
        "en": "Choose one of the options in the list.",
        "fr": "Choisissez une des options de la liste.",
        "ht": "Chwazi youn nan repons ki nan lis la.",
    },
    "constraint": {
        "es": "Revise esta respuesta.",
        "en": "Please check this answer.",
        "fr": "Vérifiez cette réponse.",
        "ht": "Tanpri verifye repons sa a.",
    },
    "too_long": {
        "es": "La respuesta es demasiado larga.",
        "en": "This answer is too long.",
        "fr": "Cette réponse est trop longue.",
        "ht": "Repons sa a twò long.",
    },
    "unknown": {
        "es": "pregunta desconocida",
        "en": "unknown question",
        "fr": "question inconnue",
        "ht": "kesyon sa a pa egziste",
    },
    "no_answer": {
        "es": "Esta pregunta no lleva respuesta.",
        "en": "This question takes no answer.",
        "fr": "Cette question n'attend pas de réponse.",
        "ht": "Kesyon sa a pa bezwen repons.",
    },
}


def message(key: str, lang: str, default_language: str = "en") -> str:
    """The engine's own message `key` in `lang`, else the default language, else English."""
    texts = MESSAGES[key]
    return texts.get(lang) or texts.get(default_language) or texts["en"]


def _stored(value: Value) -> Answer:
    """A computed value as it is kept: whole numbers as int, NaN as unanswered."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        return int(value) if value.is_integer() else value
    return value


def _empty(value: Answer | None) -> bool:
    return value is None or value == "" or value == []


def _resolve(
    form: Form, answers: Answers, today: date | None
) -> tuple[dict[str, Answer], set[str]]:
    """Answers with hidden questions removed and calculations done, and the relevant names.

    One pass in form order: a relevance that reads a later question sees its raw answer.
    """
    values = dict(answers)
    relevant: set[str] = set()
    for page in form.pages:
        page_shown = holds(page.relevant, Context(values, today=today))
        for question in page.questions:
            if not (page_shown and holds(question.relevant, Context(values, today=today))):
                values.pop(question.name, None)
                continue
            relevant.add(question.name)
            if question.type == QuestionType.CALCULATE and question.calculation is not None:
                result = evaluate(question.calculation, Context(values, today=today))
                values[question.name] = _stored(result)
    return values, relevant


def visible_questions(
    form: Form, page: Page | str, answers: Answers, *, today: date | None = None
) -> tuple[Question, ...]:
    """The questions of `page` to show, given the answers so far (calculates never show)."""
    page = form.page(page) if isinstance(page, str) else page
    _, relevant = _resolve(form, answers, today)
    return tuple(
        q for q in page.questions if q.name in relevant and q.type != QuestionType.CALCULATE
    )


def visible_choices(
    form: Form, question: Question, answers: Answers, *, today: date | None = None
) -> tuple[Choice, ...]:
    """The options of a select question left by its choice_filter."""
    values, _ = _resolve(form, answers, today)
    return _choices(form, question, values, today)


def _choices(
    form: Form, question: Question, values: Answers, today: date | None
) -> tuple[Choice, ...]:
    choices = form.choices_of(question)
    if question.choice_filter is None:
        return choices
    return tuple(
        choice
        for choice in choices
        if holds(
            question.choice_filter,
            Context(values, columns={"name": choice.name, **choice.columns}, today=today),
        )
    )


def next_page(
    form: Form, current: str | None, answers: Answers, *, today: date | None = None
) -> Page | None:
    """The page after `current` (the first page for None) that shows something, or None."""
    start = 0 if current is None else form.pages.index(form.page(current)) + 1
    for page in form.pages[start:]:
        if visible_questions(form, page, answers, today=today):
            return page
    return None


def previous_page(
    form: Form, current: str, answers: Answers, *, today: date | None = None
) -> Page | None:
    """The page before `current` that shows something, or None on the first one."""
    end = form.pages.index(form.page(current))
    for page in reversed(form.pages[:end]):
        if visible_questions(form, page, answers, today=today):
            return page
    return None


def _coerce(question: Question, raw: object) -> tuple[Answer | None, str | None]:
    """The typed answer in `raw` (None when unanswered), or the key of what is wrong with it."""
    kind = question.type
    if raw is None:
        return None, None
    if kind == QuestionType.SELECT_MULTIPLE:
        if isinstance(raw, str):
            items = raw.split()
        elif isinstance(raw, list | tuple) and all(isinstance(i, str) for i in raw):
            items = [item.strip() for item in raw if item.strip()]
        else:
            return None, "choice"
        return (list(dict.fromkeys(items)) or None), None
    if isinstance(raw, list | tuple):
        if len(raw) > 1:
            return None, "choice" if kind == QuestionType.SELECT_ONE else "constraint"
        raw = raw[0] if raw else ""
    if isinstance(raw, bool):
        if kind == QuestionType.ACKNOWLEDGE:
            return ("OK" if raw else None), None
        return None, "constraint"
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if kind == QuestionType.INTEGER:
            if isinstance(raw, float) and not raw.is_integer():
                return None, "integer"
            return int(raw), None
        if kind == QuestionType.DECIMAL:
            if math.isnan(raw) or math.isinf(raw):
                return None, "decimal"
            return float(raw), None
        raw = str(raw)
    if not isinstance(raw, str):
        return None, "constraint"
    text = raw.strip()
    if kind == QuestionType.INTEGER:
        if not text:
            return None, None
        return (int(text), None) if _INTEGER.fullmatch(text) else (None, "integer")
    if kind == QuestionType.DECIMAL:
        if "," in text and "." not in text:
            # Spanish, French and Haitian keyboards write one and a half as 1,5.
            text = text.replace(",", ".", 1)
        if not text:
            return None, None
        return (float(text), None) if _DECIMAL.fullmatch(text) else (None, "decimal")
    if kind == QuestionType.ACKNOWLEDGE:
        if text.lower() in _NOT_ACKNOWLEDGED:
            return None, None
        return ("OK", None) if text.lower() in _ACKNOWLEDGED else (None, "choice")
    if len(text) > TEXT_LIMIT:
        return None, "too_long"
    return (text or None), None


def _check(
    form: Form,
    question: Question,
    values: Answers,
    lang: str,
    today: date | None,
) -> str | None:
    """What is wrong with the (coerced, relevant) answer to `question`, in `lang`."""
    value = values.get(question.name)
    if _empty(value):
        if not question.required:
            return None
        if question.required_messages:
            return form.text(question.required_messages, lang)
        return message("required", lang, form.default_language)
    if question.type in (QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE):
        allowed = {choice.name for choice in _choices(form, question, values, today)}
        chosen = value if isinstance(value, list) else [str(value)]
        if not set(chosen) <= allowed:
            return message("choice", lang, form.default_language)
    if not holds(question.constraint, Context(values, current=value, today=today)):
        if question.constraint_messages:
            return form.text(question.constraint_messages, lang)
        return message("constraint", lang, form.default_language)
    return None


def validate_page(
    form: Form,
    page: Page | str,
    raw_inputs: Mapping[str, str | list[str]],
    lang: str,
    *,
    answers: Answers | None = None,
    today: date | None = None,
) -> tuple[dict[str, Answer], dict[str, str]]:
    """Check one submitted page against the earlier `answers`: (clean answers, errors by name).

    Inputs for hidden questions, and for names not on the page, are dropped without a word.
    """
    page = form.page(page) if isinstance(page, str) else page
    on_page = {q.name for q in page.questions}
    merged: dict[str, Answer] = {k: v for k, v in (answers or {}).items() if k not in on_page}
    wrong: dict[str, str] = {}
    for question in page.questions:
        if question.type in ANSWERLESS:
            continue
        value, problem = _coerce(question, raw_inputs.get(question.name))
        if problem is not None:
            wrong[question.name] = problem
        elif value is not None:
            merged[question.name] = value
    values, relevant = _resolve(form, merged, today)
    errors: dict[str, str] = {}
    clean = _check_visible(form, page.questions, values, relevant, wrong, lang, today, errors)
    return clean, errors


def validate_all(
    form: Form, answers: Mapping[str, object], lang: str, *, today: date | None = None
) -> tuple[dict[str, Answer], dict[str, str]]:
    """Check a whole response sent at once (the JSON API): (clean answers, errors by name).

    Pass the clean answers to `finalize` to add the calculations before storing.
    """
    errors: dict[str, str] = {}
    coerced: dict[str, Answer] = {}
    wrong: dict[str, str] = {}
    for name, raw in answers.items():
        question = form.question(name)
        if question is None:
            errors[name] = message("unknown", lang, form.default_language)
        elif question.type in ANSWERLESS:
            errors[name] = message("no_answer", lang, form.default_language)
        else:
            value, problem = _coerce(question, raw)
            if problem is not None:
                wrong[name] = problem
            elif value is not None:
                coerced[name] = value
    values, relevant = _resolve(form, coerced, today)
    clean = _check_visible(form, form.questions(), values, relevant, wrong, lang, today, errors)
    return clean, errors


def _check_visible(
    form: Form,
    questions: Iterable[Question],
    values: Mapping[str, Answer],
    relevant: Collection[str],
    wrong: Mapping[str, str],
    lang: str,
    today: date | None,
    errors: dict[str, str],
) -> dict[str, Answer]:
    """Check the relevant questions among `questions`, adding to `errors`; return clean answers."""
    clean: dict[str, Answer] = {}
    for question in questions:
        if question.name not in relevant or question.type in ANSWERLESS:
            continue
        if question.name in wrong:
            errors[question.name] = message(wrong[question.name], lang, form.default_language)
            continue
        problem_text = _check(form, question, values, lang, today)
        if problem_text is not None:
            errors[question.name] = problem_text
        elif question.name in values:
            clean[question.name] = values[question.name]
    return clean


def finalize(form: Form, answers: Answers, *, today: date | None = None) -> dict[str, Answer]:
    """The response to store: calculations done, hidden and unknown questions dropped."""
    values, relevant = _resolve(form, answers, today)
    return {
        q.name: values[q.name]
        for q in form.questions()
        if q.name in relevant and q.type != QuestionType.NOTE and not _empty(values.get(q.name))
    }
