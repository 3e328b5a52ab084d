"""Escaping for each target syntax: RouterOS strings, POSIX shell words and uci batch values.

Every value that reaches a script goes through one of these; none of them trusts its input.
"""

from __future__ import annotations

import re

# RouterOS scripting manual, "Escape sequences": \" \\ \n \r \t \$ \? \_ and \XX (two upper-case
# hex digits). `$` would substitute a variable and `?` opens the help in a terminal, so both are
# escaped even where a file import would tolerate them.
_ROS_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "$": "\\$",
    "?": "\\?",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_ROS_WORD = re.compile(r"[A-Za-z0-9._:/,*@+-]+")
_UCI_NAME = re.compile(r"[A-Za-z0-9_]+")


def ros_string(value: str) -> str:
    """Return `value` as a double-quoted RouterOS string literal, escaped byte by byte."""
    out = ['"']
    for char in value:
        if char in _ROS_ESCAPES:
            out.append(_ROS_ESCAPES[char])
        elif " " <= char <= "~":
            out.append(char)
        else:
            # Control characters and every octet of a non-ASCII character as \XX: a terminal
            # paste or an import in another code page keeps them intact.
            out.extend(f"\\{octet:02X}" for octet in char.encode("utf-8"))
    out.append('"')
    return "".join(out)


def ros_word(value: str) -> str:
    """Return `value` unquoted if RouterOS reads it as one plain word, else raise ValueError."""
    if not _ROS_WORD.fullmatch(value):
        raise ValueError(f"not a plain RouterOS word: {value!r}")
    return value


def ros_comment(text: str) -> str:
    """Return `text` safe for the rest of a `#` comment line: one line, no continuation."""
    flat = "".join(char if char.isprintable() else " " for char in text)
    # A trailing backslash would join the next line to the comment.
    return flat.rstrip().rstrip("\\").rstrip()


def ros_time(seconds: int) -> str:
    """Return a duration in RouterOS time syntax (`5m`, `90s`)."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def _one_line(value: str) -> str:
    if any(not char.isprintable() for char in value):
        raise ValueError(f"control characters cannot be quoted here: {value!r}")
    return value


def sh_quote(value: str) -> str:
    """Return `value` as one POSIX shell word (single quotes; a quote becomes '\\'')."""
    return "'" + _one_line(value).replace("'", "'\\''") + "'"


def uci_quote(value: str) -> str:
    """Return `value` as one uci batch argument (uci's parser reads quotes as the shell does)."""
    # uci file.c parse_str: '...' takes everything to the next quote, \' outside quotes is a
    # quote, and adjacent pieces join; one value must stay on its line of the batch.
    return "'" + _one_line(value).replace("'", "'\\''") + "'"


def uci_name(value: str) -> str:
    """Return `value` if it is a valid uci config, section or option name, else raise."""
    if not _UCI_NAME.fullmatch(value):
        raise ValueError(f"not a uci name: {value!r}")
    return value
