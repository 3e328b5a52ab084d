"""A checker for `uci batch` input, for where the `uci` program itself is not installed.

It splits each line into words the way uci's own parser does (file.c parse_str: single quotes
take everything literally, double quotes and a bare backslash escape one character, adjacent
pieces join into one word) and checks each command's shape and names.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"[A-Za-z0-9_]+")
_CONFIG = re.compile(r"[A-Za-z0-9_-]+")
_TYPE = re.compile(r"[A-Za-z0-9_-]+")
_SECTION = re.compile(r"[A-Za-z0-9_]+|@[A-Za-z0-9_-]+\[-?[0-9]+\]")
# `uci [-q] batch <<'MARK'` in a shell script: the quotes keep the shell's hands off the batch.
_HEREDOC = re.compile(r"^\s*uci(?: -q)? batch <<(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1\s*$")


def split_words(line: str) -> list[str]:
    """Split one batch line into words as uci does; raise ValueError on unbalanced quotes."""
    words: list[str] = []
    current: list[str] = []
    in_word = False
    index = 0
    while index < len(line):
        char = line[index]
        if char in " \t":
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
            index += 1
            continue
        in_word = True
        if char == "'":
            end = line.find("'", index + 1)
            if end < 0:
                raise ValueError("unbalanced single quote")
            current.append(line[index + 1 : end])
            index = end + 1
        elif char == '"':
            index += 1
            while True:
                if index >= len(line):
                    raise ValueError("unbalanced double quote")
                if line[index] == "\\" and index + 1 < len(line):
                    current.append(line[index + 1])
                    index += 2
                elif line[index] == '"':
                    index += 1
                    break
                else:
                    current.append(line[index])
                    index += 1
        elif char == "\\":
            if index + 1 >= len(line):
                raise ValueError("a backslash ends the line")
            current.append(line[index + 1])
            index += 2
        else:
            current.append(char)
            index += 1
    if in_word:
        words.append("".join(current))
    return words


def _check_path(path: str, *, option: bool | None) -> str | None:
    """Check `config.section[.option]`; `option` True requires it, False forbids it."""
    parts = path.split(".")
    if len(parts) not in (2, 3):
        return f"not config.section[.option]: {path!r}"
    if option is True and len(parts) != 3:
        return f"needs config.section.option: {path!r}"
    if option is False and len(parts) != 2:
        return f"needs config.section: {path!r}"
    if not _CONFIG.fullmatch(parts[0]):
        return f"bad config name {parts[0]!r}"
    if not _SECTION.fullmatch(parts[1]):
        return f"bad section name {parts[1]!r}"
    if len(parts) == 3 and not _NAME.fullmatch(parts[2]):
        return f"bad option name {parts[2]!r}"
    return None


def _check_command(words: list[str]) -> str | None:
    command, arguments = words[0], words[1:]
    if command == "commit":
        if len(arguments) > 1 or (arguments and not _CONFIG.fullmatch(arguments[0])):
            return "commit takes at most a config name"
        return None
    if command == "add":
        if len(arguments) != 2 or not _CONFIG.fullmatch(arguments[0]):
            return "add takes a config and a section type"
        return None if _TYPE.fullmatch(arguments[1]) else f"bad section type {arguments[1]!r}"
    if len(arguments) != 1:
        return f"{command} takes one argument, got {len(arguments)}"
    argument = arguments[0]
    if command in ("delete", "revert"):
        if "=" in argument:
            return f"{command} takes no value"
        return _check_path(argument, option=None)
    if command not in ("set", "add_list", "del_list", "rename", "reorder"):
        return f"unknown uci command {command!r}"
    path, equals, value = argument.partition("=")
    if not equals:
        return f"{command} needs path=value"
    if value == "":
        return f"empty value for {path} (delete the option instead)"
    if "\n" in value or "\r" in value:
        return f"a line break in the value of {path}"
    problem = _check_path(path, option=True if command in ("add_list", "del_list") else None)
    if problem:
        return problem
    if command == "set" and path.count(".") == 1 and not _TYPE.fullmatch(value):
        return f"bad section type {value!r}"
    if command == "reorder" and not value.isdigit():
        return "reorder needs a position"
    return None


def check_uci_batch(batch: str) -> list[str]:
    """Return the problems in `uci batch` input, one per bad line (empty when all are fine)."""
    problems: list[str] = []
    for number, line in enumerate(batch.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            words = split_words(line)
        except ValueError as error:
            problems.append(f"line {number}: {error}")
            continue
        problem = _check_command(words)
        if problem:
            problems.append(f"line {number}: {problem}")
    return problems


def uci_batches(script: str) -> list[str]:
    """Return the input of every `uci batch <<'MARK'` here-document in a shell script."""
    batches: list[str] = []
    lines = script.splitlines()
    index = 0
    while index < len(lines):
        match = _HEREDOC.match(lines[index])
        index += 1
        if not match:
            continue
        if not match.group(1):
            raise ValueError(f"unquoted here-document {match.group(2)}: the shell would expand it")
        mark = match.group(2)
        try:
            end = lines.index(mark, index)
        except ValueError:
            raise ValueError(f"here-document {mark} never ends") from None
        batches.append("\n".join(lines[index:end]) + "\n")
        index = end + 1
    return batches
