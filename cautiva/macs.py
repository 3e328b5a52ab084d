"""MAC addresses as routers send them, normalised to `AA:BB:CC:DD:EE:FF`.

Phones randomise their MAC per network, so a MAC is a device-session hint, never a person.
"""

from __future__ import annotations

import re

_HEX = re.compile(r"[0-9A-Fa-f]{12}")
_SEPARATORS = re.compile(r"[:\-.\s]")


def normalise_mac(value: str | None) -> str | None:
    """Return the MAC in upper-case colon form, or None when `value` is not a MAC."""
    if not value:
        return None
    digits = _SEPARATORS.sub("", value.strip())
    if not _HEX.fullmatch(digits):
        return None
    digits = digits.upper()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))
