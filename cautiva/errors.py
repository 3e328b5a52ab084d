"""Errors the domain core raises; each edge renders them its own way.

CautivaError
├── NotFound            a point, grant or session that does not exist
├── Conflict            a name or identifier already taken
└── InvalidInput        a value that breaks a rule (weak secret, bad MAC, retired point)
    └── InvalidAnswers  a survey submission refused field by field (`errors`: name -> reason)
"""

from __future__ import annotations

from collections.abc import Mapping


class CautivaError(Exception):
    """Base of every error the domain core raises on purpose."""


class NotFound(CautivaError):
    """The thing asked for does not exist."""


class Conflict(CautivaError):
    """The thing to create clashes with one that exists."""


class InvalidInput(CautivaError):
    """A value breaks one of the domain's rules."""


class InvalidAnswers(InvalidInput):
    """A survey submission breaks rules on some fields; `errors` maps each field to its reason."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in self.errors.items()))
