"""Errors the domain core raises; each edge renders them its own way.

CautivaError
├── NotFound            a point, grant or session that does not exist
├── Conflict            a name or identifier already taken
└── InvalidInput        a value that breaks a rule (weak secret, bad MAC, retired point)
"""

from __future__ import annotations


class CautivaError(Exception):
    """Base of every error the domain core raises on purpose."""


class NotFound(CautivaError):
    """The thing asked for does not exist."""


class Conflict(CautivaError):
    """The thing to create clashes with one that exists."""


class InvalidInput(CautivaError):
    """A value breaks one of the domain's rules."""
