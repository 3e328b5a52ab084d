"""A checker for the RouterOS script syntax the generated `.rsc` files use.

Not a RouterOS interpreter: it parses commands (`/menu path command key=value ...`, global
`:commands`, `[command substitution]`, `(expressions)` and `{blocks}`), checks string literals
against the escape rules of the RouterOS scripting manual (an unescaped `$` substitutes a
variable, `?` opens the terminal's help, raw control characters break a paste), and checks menus,
commands and property names against an allowlist of the menus Cautiva's scripts use, so that a
typo fails a test instead of a router.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_COMMON = frozenset({"add", "set", "remove", "print", "find", "get", "enable", "disable", "export"})
_SETTINGS = frozenset({"set", "print", "get", "export"})


@dataclass(frozen=True)
class Menu:
    """A RouterOS menu: the commands it takes and the property names they may set or match."""

    commands: frozenset[str]
    properties: frozenset[str]


def _menu(commands: frozenset[str], properties: str) -> Menu:
    return Menu(commands, frozenset(properties.split()) | {"comment", "disabled"})


# From help.mikrotik.com (RADIUS, HotSpot, IP Pools, DHCP, DNS, NAT, Files, Scheduler, Fetch,
# Resource): only the properties Cautiva's scripts may use, and their close neighbours.
MENUS: dict[str, Menu] = {
    "system identity": _menu(_SETTINGS, "name"),
    "system resource": _menu(
        frozenset({"print", "get"}),
        "uptime cpu-load cpu-count free-memory total-memory version board-name",
    ),
    "system scheduler": _menu(
        _COMMON, "name interval start-time start-date on-event policy run-count"
    ),
    "radius": _menu(
        _COMMON,
        "service address secret authentication-port accounting-port timeout "
        "require-message-auth src-address protocol realm called-id domain accounting-backup",
    ),
    "radius incoming": _menu(_SETTINGS, "accept port vrf"),
    "ip address": _menu(_COMMON, "address interface network"),
    "ip pool": _menu(_COMMON, "name ranges next-pool"),
    "ip dhcp-server": _menu(
        _COMMON, "name interface address-pool lease-time add-arp authoritative"
    ),
    "ip dhcp-server network": _menu(
        _COMMON, "address gateway dns-server dhcp-option domain netmask ntp-server"
    ),
    "ip dhcp-server option": _menu(_COMMON, "name code value"),
    "ip dns": _menu(_SETTINGS, "allow-remote-requests servers cache-size"),
    "ip firewall nat": _menu(
        _COMMON,
        "chain action src-address dst-address in-interface out-interface in-interface-list "
        "out-interface-list protocol dst-port to-addresses to-ports",
    ),
    "ip hotspot": _menu(
        _COMMON,
        "name interface address-pool profile idle-timeout keepalive-timeout login-timeout "
        "addresses-per-mac",
    ),
    "ip hotspot profile": _menu(
        _COMMON,
        "name hotspot-address dns-name html-directory html-directory-override "
        "http-cookie-lifetime http-proxy https-redirect login-by mac-auth-password "
        "nas-port-type radius-accounting radius-default-domain radius-interim-update "
        "radius-location-id radius-location-name radius-mac-format rate-limit smtp-server "
        "split-user-domain ssl-certificate trial-uptime-limit trial-uptime-reset "
        "trial-user-profile use-radius install-hotspot-queue default",
    ),
    "ip hotspot walled-garden": _menu(
        _COMMON, "dst-host dst-port dst-address path method action server src-address"
    ),
    "ip hotspot walled-garden ip": _menu(
        _COMMON, "dst-host dst-address dst-port protocol src-address action server"
    ),
    "file": _menu(_COMMON, "name contents type"),
    "tool": _menu(
        frozenset({"fetch"}),
        "url http-method http-data http-header-field output mode check-certificate dst-path "
        "keep-result user password address host port",
    ),
}

_ALL_COMMANDS = frozenset().union(*(menu.commands for menu in MENUS.values()))

# Global commands and the named arguments they take.
GLOBALS: dict[str, frozenset[str]] = {
    "local": frozenset(),
    "global": frozenset(),
    "set": frozenset(),
    "if": frozenset({"do", "else"}),
    "do": frozenset({"on-error", "while"}),
    "log": frozenset(),
    "put": frozenset(),
    "delay": frozenset(),
    "len": frozenset(),
    "pick": frozenset(),
    "tonum": frozenset(),
    "tostr": frozenset(),
    "totime": frozenset(),
}
_LOG_LEVELS = frozenset({"info", "warning", "error", "debug"})

# RouterOS scripting manual, "Escape sequences".
_ESCAPES = frozenset('"\\nrt$?_abfv')
_HEX = frozenset("0123456789ABCDEF")
_WORD_CHARS = re.compile(r"[A-Za-z0-9._:/,*@+!%-]")
_NAME = re.compile(r"[a-z][a-z0-9-]*")
_VARIABLE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_OPERATORS = "+-*/%.=!<>&|~^"
_EXPRESSION_WORDS = re.compile(r"[A-Za-z0-9._:/-]+")


class ScriptError(Exception):
    """The first problem found, with its line."""


@dataclass
class _Arguments:
    named: dict[str, str] = field(default_factory=dict)
    positional: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # -- low level ------------------------------------------------------------------------

    def fail(self, message: str) -> ScriptError:
        line = self.text.count("\n", 0, self.pos) + 1
        return ScriptError(f"line {line}: {message}")

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def skip_blanks(self) -> None:
        """Skip spaces, tabs and line continuations (a backslash ending a line)."""
        while True:
            char = self.peek()
            if char in (" ", "\t"):
                self.pos += 1
            elif char == "\\" and self.peek(1) == "\n":
                self.pos += 2
            elif char == "\\" and self.peek(1) == "\r" and self.peek(2) == "\n":
                self.pos += 3
            else:
                return

    def at_statement_end(self, closer: str) -> bool:
        char = self.peek()
        return char in ("", "\n", "\r", ";") or (closer != "" and char == closer)

    # -- scripts and statements -----------------------------------------------------------

    def script(self, closer: str, menu: str | None) -> None:
        """Parse statements up to `closer` (or the end of the text for the top level)."""
        context = menu
        while True:
            self.skip_blanks()
            char = self.peek()
            if char == "":
                if closer:
                    raise self.fail(f"unbalanced: missing {closer!r}")
                return
            if char == closer:
                self.pos += 1
                return
            if char in ("]", "}", ")"):
                raise self.fail(f"unbalanced: unexpected {char!r}")
            if char in ("\n", "\r", ";"):
                self.pos += 1
                continue
            if char == "#":
                while self.peek() not in ("", "\n"):
                    self.pos += 1
                continue
            context = self.statement(closer, context)

    def statement(self, closer: str, context: str | None) -> str | None:
        """Parse one statement; return the menu context for the statements after it."""
        char = self.peek()
        if char == ":":
            self.pos += 1
            self.global_command(closer, context)
            return context
        if char == "{":
            self.pos += 1
            self.script("}", context)
            return context
        if char == "/":
            path = self.path()
            self.skip_blanks()
            if self.at_statement_end(closer):
                if path not in MENUS:
                    raise self.fail(f"unknown menu /{path}")
                return path  # a bare path changes the current menu
            self.menu_command(path, closer)
            return context
        if context is None:
            raise self.fail(f"a command outside any menu: {self.rest_of_line()!r}")
        self.menu_command(context, closer)
        return context

    def rest_of_line(self) -> str:
        end = self.text.find("\n", self.pos)
        return self.text[self.pos : end if end >= 0 else len(self.text)]

    def word(self) -> str:
        start = self.pos
        while re.fullmatch(r"[a-z0-9-]", self.peek() or " "):
            self.pos += 1
        return self.text[start : self.pos]

    def path(self) -> str:
        """Read `/ip hotspot profile` or `/ip/hotspot/profile` up to the command word."""
        self.pos += 1  # the leading slash
        parts: list[str] = []
        while True:
            name = self.word()
            if not name:
                if not parts:
                    return ""
                raise self.fail(f"bad menu path after /{' '.join(parts)}")
            parts.append(name)
            if self.peek() == "/":
                self.pos += 1
                continue
            mark = self.pos
            self.skip_blanks()
            following = self.pos
            candidate = self.word()
            self.pos = following
            extended = " ".join([*parts, candidate])
            if candidate and any(m == extended or m.startswith(extended + " ") for m in MENUS):
                continue
            if not candidate:
                self.pos = mark
            return " ".join(parts)

    def menu_command(self, menu: str, closer: str) -> None:
        if menu not in MENUS:
            raise self.fail(f"unknown menu /{menu}")
        spec = MENUS[menu]
        command = self.word()
        if command not in spec.commands:
            if command and command not in _ALL_COMMANDS:
                raise self.fail(f"unknown menu /{menu} {command}")
            raise self.fail(f"unknown command {command!r} in /{menu}")
        arguments = self.arguments(closer, menu)
        if command in ("add", "set", "find", "fetch"):
            for name in arguments.named:
                if name not in spec.properties:
                    raise self.fail(f"unknown property {name!r} for /{menu} {command}")
        if command == "get" and arguments.positional:
            kind, text = arguments.positional[-1]
            if kind == "word" and text not in spec.properties:
                raise self.fail(f"unknown property {text!r} for /{menu} get")

    def global_command(self, closer: str, context: str | None) -> None:
        name = self.word()
        if name not in GLOBALS:
            raise self.fail(f"unknown global command :{name}")
        arguments = self.arguments(closer, context)
        for key in arguments.named:
            if key not in GLOBALS[name]:
                raise self.fail(f"unknown argument {key!r} for :{name}")
        kinds = [kind for kind, _ in arguments.positional]
        if name in ("local", "global", "set"):
            if (
                not kinds
                or kinds[0] != "word"
                or not _VARIABLE.fullmatch(arguments.positional[0][1])
            ):
                raise self.fail(f":{name} needs a variable name")
        elif name == "if":
            if kinds != ["expression"] or arguments.named.get("do") != "block":
                raise self.fail(":if needs (condition) do={...}")
        elif name == "do":
            if kinds != ["block"] and arguments.named.get("do") != "block":
                raise self.fail(":do needs a {block}")
        elif name == "log":
            if len(kinds) != 2 or arguments.positional[0][1] not in _LOG_LEVELS:
                raise self.fail(":log needs a level (info, warning, error, debug) and a message")
        elif not kinds:
            raise self.fail(f":{name} needs an argument")
        for key, kind in arguments.named.items():
            if key in ("do", "else", "on-error") and kind != "block":
                raise self.fail(f"{key}= needs a {{block}}")

    # -- arguments and values -------------------------------------------------------------

    def arguments(self, closer: str, menu: str | None) -> _Arguments:
        arguments = _Arguments()
        while True:
            self.skip_blanks()
            if self.at_statement_end(closer):
                return arguments
            name_match = re.match(r"[a-z][a-z0-9-]*=", self.text[self.pos :])
            if name_match:
                name = name_match.group(0)[:-1]
                self.pos += len(name_match.group(0))
                if self.peek() in ("", " ", "\t", "\n", "\r", ";") or self.peek() == closer:
                    raise self.fail(f'bad argument: {name}= has no value (write {name}="")')
                if name in arguments.named:
                    raise self.fail(f"bad argument: {name} given twice")
                arguments.named[name] = self.value(menu)
            else:
                if self.peek() == "=":
                    raise self.fail("bad argument: '=' without a property name")
                start = self.pos
                kind = self.value(menu)
                arguments.positional.append((kind, self.text[start : self.pos]))

    def value(self, menu: str | None) -> str:
        """Parse one value; return its kind (word, string, command, expression, block, var)."""
        char = self.peek()
        if char == '"':
            self.string()
            return "string"
        if char == "[":
            self.pos += 1
            self.script("]", menu)
            return "command"
        if char == "(":
            self.pos += 1
            self.expression(menu)
            return "expression"
        if char == "{":
            self.pos += 1
            self.script("}", menu)
            return "block"
        if char == "$":
            self.variable()
            return "var"
        if char in (")", "]", "}"):
            raise self.fail(f"unbalanced: unexpected {char!r}")
        start = self.pos
        while self.peek() and _WORD_CHARS.fullmatch(self.peek()):
            self.pos += 1
        if self.pos == start or self.peek() not in ("", " ", "\t", "\n", "\r", ";", "]", "}", ")"):
            bad = self.peek() or "end of text"
            raise self.fail(f"bad argument: unexpected {bad!r} (quote the value)")
        if self.text[start : self.pos] in ("=", "=="):
            raise self.fail("bad argument")
        return "word"

    def variable(self) -> None:
        self.pos += 1
        if self.peek() == '"':
            self.string()
            return
        match = _VARIABLE.match(self.text, self.pos)
        if not match:
            raise self.fail("bad variable reference after '$'")
        self.pos = match.end()

    def string(self) -> None:
        opening = self.pos
        self.pos += 1
        while True:
            char = self.peek()
            if char == "":
                self.pos = opening
                raise self.fail("unbalanced quote: the string never ends")
            if char == '"':
                self.pos += 1
                return
            if char == "\\":
                following = self.peek(1)
                if following == "\n" or following in _ESCAPES:
                    self.pos += 2
                elif following in _HEX and self.peek(2) in _HEX:
                    self.pos += 3
                else:
                    raise self.fail(f"bad escape \\{following} in a string")
                continue
            if char in ("\n", "\r"):
                self.pos = opening
                raise self.fail("unbalanced quote: the string ends with its line (write \\n)")
            if char == "$":
                raise self.fail("unescaped '$' in a string (write \\$)")
            if char == "?":
                raise self.fail("unescaped '?' in a string (write \\?)")
            if not char.isprintable():
                raise self.fail(f"raw control character {char!r} in a string")
            self.pos += 1

    def expression(self, menu: str | None) -> None:
        while True:
            self.skip_blanks()
            char = self.peek()
            if char == "":
                raise self.fail("unbalanced: missing ')'")
            if char == ")":
                self.pos += 1
                return
            if char in ("\n", "\r"):
                self.pos += 1
            elif char == '"':
                self.string()
            elif char == "[":
                self.pos += 1
                self.script("]", menu)
            elif char == "(":
                self.pos += 1
                self.expression(menu)
            elif char == "$":
                self.variable()
            elif char in _OPERATORS:
                self.pos += 1
            elif char in ("]", "}", "{"):
                raise self.fail(f"unbalanced: missing ')' before {char!r}")
            else:
                match = _EXPRESSION_WORDS.match(self.text, self.pos)
                if not match:
                    raise self.fail(f"unexpected {char!r} in an expression")
                self.pos = match.end()


def check_routeros(script: str) -> list[str]:
    """Return the problems in a RouterOS script (empty when it parses); the first one only."""
    parser = _Parser(script)
    try:
        parser.script("", None)
    except ScriptError as error:
        return [str(error)]
    return []
