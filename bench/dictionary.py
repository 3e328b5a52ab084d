"""The RADIUS dictionary the bench encodes with: the project's own, or FreeRADIUS's RFC files."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from pyrad.dictionary import Dictionary

ROOT = Path(__file__).resolve().parent.parent
FREERADIUS_FILES = tuple(
    f"/usr/share/freeradius/dictionary.{name}" for name in ("rfc2865", "rfc2866", "rfc2869")
)
REQUIRED = (
    "User-Name",
    "User-Password",
    "NAS-IP-Address",
    "NAS-Identifier",
    "Calling-Station-Id",
    "Framed-IP-Address",
    "Class",
    "Message-Authenticator",
    "Acct-Status-Type",
    "Acct-Session-Id",
    "Acct-Session-Time",
    "Acct-Input-Octets",
    "Acct-Output-Octets",
    "Acct-Input-Gigawords",
    "Acct-Output-Gigawords",
    "Acct-Terminate-Cause",
)


def load_dictionary() -> tuple[Any, str]:
    """Return a pyrad Dictionary and a note saying where it came from."""
    note = ""
    if (ROOT / "radius" / "dictionary.py").exists():
        try:
            module = importlib.import_module("radius.dictionary")
            project = module.load_dictionary()
            missing = [name for name in REQUIRED if name not in project.attributes]
            if not missing:
                return project, "project radius.dictionary.load_dictionary()"
            note = f" (project dictionary lacks {', '.join(missing)})"
        except Exception as exc:  # the project's module is being written; fall back
            note = f" (project dictionary failed: {type(exc).__name__}: {exc})"
    missing_files = [path for path in FREERADIUS_FILES if not Path(path).exists()]
    if missing_files:
        raise FileNotFoundError(f"no RADIUS dictionary: missing {', '.join(missing_files)}")
    return Dictionary(*FREERADIUS_FILES), "FreeRADIUS dictionary.rfc2865/2866/2869" + note
