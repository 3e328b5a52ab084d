"""The XLSForm expression subset a splash page needs: parsed once at import, evaluated safely.

Nothing here calls Python's eval. Semantics follow XPath 1.0 where a form author would notice:
an unanswered question reads as the empty string, `=` between two number-like values compares
numbers, `<` and friends compare numbers (and ISO dates as text), `selected` reads a list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cautiva.errors import InvalidInput

Answer = str | int | float | bool | list[str]
Value = str | float | bool | list[str]

REGEX_INPUT_LIMIT = 256
"""Longer inputs fail `regex(...)` outright: a cap on the cost of a badly written pattern."""

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<ref>\$\{(?P<refname>[^}]*)\})
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|,)
  | (?P<dot>\.)
  | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
    """,
    re.VERBOSE,
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*")


@dataclass(frozen=True, slots=True)
class Literal:
    """A string or number written in the expression."""

    value: str | float


@dataclass(frozen=True, slots=True)
class Ref:
    """`${name}`: the answer to another question."""

    name: str


@dataclass(frozen=True, slots=True)
class Current:
    """`.`: the value being checked by a constraint."""


@dataclass(frozen=True, slots=True)
class Column:
    """A bare name in a choice_filter: a column of the choice being filtered."""

    name: str


@dataclass(frozen=True, slots=True)
class Negate:
    """Unary minus."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    """An operator between two operands."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    """A function call; `pattern` holds the compiled regex of `regex(...)`."""

    name: str
    args: tuple[Node, ...]
    pattern: re.Pattern[str] | None = None


Node = Literal | Ref | Current | Column | Negate | Binary | Call

# name -> (minimum, maximum) number of arguments
_ARITY: dict[str, tuple[int, int]] = {
    "not": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "selected": (2, 2),
    "count-selected": (1, 1),
    "string-length": (1, 1),
    "if": (3, 3),
    "regex": (2, 2),
    "today": (0, 0),
    "concat": (1, 20),
    "coalesce": (2, 2),
    "number": (1, 1),
    "string": (1, 1),
    "int": (1, 1),
    "round": (1, 2),
}
FUNCTIONS = frozenset(_ARITY)


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression with the question names it reads."""

    source: str
    root: Node
    references: frozenset[str] = field(default_factory=frozenset)


@dataclass(slots=True)
class _Parser:
    source: str
    tokens: list[tuple[str, str]]
    known: Collection[str] | None
    columns: Collection[str] | None
    allow_current: bool
    position: int = 0
    references: set[str] = field(default_factory=set)

    def fail(self, message: str) -> InvalidInput:
        return InvalidInput(f"expression {self.source!r}: {message}")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.fail("ends too early")
        self.position += 1
        return token

    def accept(self, kind: str, text: str) -> bool:
        token = self.peek()
        if token is not None and token == (kind, text):
            self.position += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept("op", text):
            token = self.peek()
            found = "the end" if token is None else repr(token[1])
            raise self.fail(f"expected {text!r}, found {found}")

    def binary(self, operators: dict[tuple[str, str], str], operand: Callable[[], Node]) -> Node:
        node = operand()
        while (token := self.peek()) is not None and token in operators:
            self.position += 1
            node = Binary(operators[token], node, operand())
        return node

    def parse_or(self) -> Node:
        return self.binary({("word", "or"): "or"}, self.parse_and)

    def parse_and(self) -> Node:
        return self.binary({("word", "and"): "and"}, self.parse_equality)

    def parse_equality(self) -> Node:
        return self.binary({("op", "="): "=", ("op", "!="): "!="}, self.parse_relational)

    def parse_relational(self) -> Node:
        ops = {("op", o): o for o in ("<", "<=", ">", ">=")}
        return self.binary(ops, self.parse_additive)

    def parse_additive(self) -> Node:
        return self.binary({("op", "+"): "+", ("op", "-"): "-"}, self.parse_multiplicative)

    def parse_multiplicative(self) -> Node:
        ops = {("op", "*"): "*", ("word", "div"): "div", ("word", "mod"): "mod"}
        return self.binary(ops, self.parse_unary)

    def parse_unary(self) -> Node:
        if self.accept("op", "-"):
            return Negate(self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Node:
        kind, text = self.take()
        if kind == "number":
            return Literal(float(text))
        if kind == "string":
            return Literal(text[1:-1])
        if kind == "ref":
            name = text[2:-1].strip()
            if not _NAME.fullmatch(name):
                raise self.fail(f"${{{name}}} is not a question name")
            if self.known is not None and name not in self.known:
                raise self.fail(f"${{{name}}} refers to no question in this form")
            self.references.add(name)
            return Ref(name)
        if kind == "dot":
            if not self.allow_current:
                raise self.fail("'.' only means something in a constraint")
            return Current()
        if kind == "op" and text == "(":
            node = self.parse_or()
            self.expect(")")
            return node
        if kind == "word":
            if self.accept("op", "("):
                return self.call(text)
            if self.columns is not None and text in self.columns:
                return Column(text)
            raise self.fail(f"unexpected word {text!r} (write a question as ${{{text}}})")
        raise self.fail(f"unexpected {text!r}")

    def call(self, name: str) -> Node:
        if name not in _ARITY:
            raise self.fail(f"function {name}() is not supported")
        args: list[Node] = []
        if not self.accept("op", ")"):
            args.append(self.parse_or())
            while self.accept("op", ","):
                args.append(self.parse_or())
            self.expect(")")
        low, high = _ARITY[name]
        if not low <= len(args) <= high:
            raise self.fail(f"{name}() takes {low}-{high} arguments, got {len(args)}")
        pattern = None
        if name == "regex":
            second = args[1]
            if not isinstance(second, Literal) or not isinstance(second.value, str):
                raise self.fail("the pattern of regex() must be a quoted string")
            try:
                pattern = re.compile(second.value)
            except re.error as err:
                raise self.fail(f"bad regex pattern: {err}") from None
        return Call(name, tuple(args), pattern)


def _tokenize(source: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise InvalidInput(
                f"expression {source!r}: cannot read {source[position : position + 10]!r}"
            )
        kind = match.lastgroup
        if kind == "refname":
            kind = "ref"
        if kind is not None and kind != "space":
            tokens.append((kind, match.group()))
        position = match.end()
    return tokens


def parse(
    source: str,
    *,
    known: Collection[str] | None = None,
    columns: Collection[str] | None = None,
    allow_current: bool = False,
) -> Expression:
    """Parse `source`, rejecting unknown functions and references outside `known`."""
    tokens = _tokenize(source)
    if not tokens:
        raise InvalidInput(f"expression {source!r}: is empty")
    parser = _Parser(source, tokens, known, columns, allow_current)
    root = parser.parse_or()
    if parser.peek() is not None:
        raise parser.fail(f"unexpected {parser.take()[1]!r}")
    return Expression(source, root, frozenset(parser.references))


@dataclass(frozen=True, slots=True)
class Context:
    """What an expression reads: the answers, the value checked, the choice filtered, today."""

    answers: Mapping[str, Answer]
    current: Answer | None = None
    columns: Mapping[str, str] | None = None
    today: date | None = None


def _from_answer(answer: Answer | None) -> Value:
    if answer is None:
        return ""
    if isinstance(answer, bool | str | list):
        return answer
    return float(answer)


def to_number(value: Value) -> float:
    """XPath number(): NaN for anything that does not read as a number."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    text = " ".join(value) if isinstance(value, list) else value
    text = text.strip()
    if not re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)", text):
        return math.nan
    return float(text)


def to_string(value: Value) -> str:
    """XPath string(): integral numbers lose their '.0', a list joins with spaces."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list):
        return " ".join(value)
    return value


def to_bool(value: Value) -> bool:
    """XPath boolean(): non-empty text, non-zero number."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not math.isnan(value) and value != 0
    return len(value) > 0


def _items(value: Value) -> list[str]:
    if isinstance(value, list):
        return value
    return to_string(value).split()


def _compare(op: str, left: Value, right: Value) -> bool:
    if op in ("=", "!="):
        if isinstance(left, bool) or isinstance(right, bool):
            equal = to_bool(left) == to_bool(right)
        else:
            a, b = to_number(left), to_number(right)
            if not math.isnan(a) and not math.isnan(b):
                equal = a == b
            else:
                equal = to_string(left) == to_string(right)
        return equal if op == "=" else not equal
    a, b = to_number(left), to_number(right)
    if not math.isnan(a) and not math.isnan(b):
        return _order(op, a, b)
    sa, sb = to_string(left), to_string(right)
    # ISO dates (today() against '2026-01-01') still order correctly as text.
    if sa and sb and math.isnan(a) and math.isnan(b):
        return _order(op, sa, sb)
    return False


def _order(op: str, a: Any, b: Any) -> bool:
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _arithmetic(op: str, left: Value, right: Value) -> float:
    a, b = to_number(left), to_number(right)
    if math.isnan(a) or math.isnan(b):
        return math.nan
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        if op == "mod" or a == 0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    if op == "div":
        return a / b
    return math.fmod(a, b)


def _call(node: Call, context: Context) -> Value:
    name, args = node.name, node.args
    if name == "if":
        return _eval(args[1] if to_bool(_eval(args[0], context)) else args[2], context)
    if name == "true":
        return True
    if name == "false":
        return False
    if name == "today":
        return (context.today or date.today()).isoformat()
    values = [_eval(arg, context) for arg in args]
    if name == "not":
        return not to_bool(values[0])
    if name == "selected":
        return to_string(values[1]).strip() in _items(values[0])
    if name == "count-selected":
        return float(len(_items(values[0])))
    if name == "string-length":
        return float(len(to_string(values[0])))
    if name == "regex":
        text = to_string(values[0])
        if len(text) > REGEX_INPUT_LIMIT or node.pattern is None:
            return False
        return node.pattern.search(text) is not None
    if name == "concat":
        return "".join(to_string(v) for v in values)
    if name == "coalesce":
        first = to_string(values[0])
        return values[0] if first else values[1]
    if name == "number":
        return to_number(values[0])
    if name == "string":
        return to_string(values[0])
    number = to_number(values[0])
    if math.isnan(number) or math.isinf(number):
        return number
    if name == "int":
        return float(math.trunc(number))
    digits = int(to_number(values[1])) if len(values) > 1 else 0
    # XPath rounds halves up, not to even as Python's round() does.
    scale = 10.0**digits
    return math.floor(number * scale + 0.5) / scale


def _eval(node: Node, context: Context) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        return _from_answer(context.answers.get(node.name))
    if isinstance(node, Current):
        return _from_answer(context.current)
    if isinstance(node, Column):
        return (context.columns or {}).get(node.name, "")
    if isinstance(node, Negate):
        return -to_number(_eval(node.operand, context))
    if isinstance(node, Call):
        return _call(node, context)
    if node.op == "or":
        return to_bool(_eval(node.left, context)) or to_bool(_eval(node.right, context))
    if node.op == "and":
        return to_bool(_eval(node.left, context)) and to_bool(_eval(node.right, context))
    left, right = _eval(node.left, context), _eval(node.right, context)
    if node.op in ("=", "!=", "<", "<=", ">", ">="):
        return _compare(node.op, left, right)
    return _arithmetic(node.op, left, right)


def evaluate(expression: Expression, context: Context) -> Value:
    """The value of `expression` in `context`."""
    return _eval(expression.root, context)


def holds(expression: Expression | None, context: Context) -> bool:
    """Whether `expression` is true in `context`; no expression always holds."""
    return expression is None or to_bool(evaluate(expression, context))


def references(expressions: Sequence[Expression | None]) -> frozenset[str]:
    """Every question name read by any of `expressions`."""
    names: set[str] = set()
    for expression in expressions:
        if expression is not None:
            names |= expression.references
    return frozenset(names)
