"""Reading decoded attribute values from pyrad packets, defensively."""

from __future__ import annotations

from typing import Any

from pyrad.packet import Packet


def first(packet: Packet, name: str) -> Any:
    """Return the first value of attribute `name`, or None when absent."""
    values = packet.get(name)
    return values[0] if values else None


def text(packet: Packet, name: str) -> str | None:
    """Return a string attribute, or None (octets are decoded as UTF-8, replacing errors)."""
    value = first(packet, name)
    if value is None:
        return None
    decoded = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    if "\x00" in decoded:
        # Valid UTF-8 but no database text; RFC 2865 section 5 says strings are not NUL-terminated.
        raise ValueError(f"{name} contains a NUL octet")
    return decoded


def integer(packet: Packet, name: str, default: int = 0) -> int:
    """Return an integer attribute, or `default`."""
    value = first(packet, name)
    if value is None:
        return default
    if isinstance(value, int):
        return value
    raise ValueError(f"{name} is not an integer: {value!r}")


def add_reply_attribute(packet: Packet, name: str, value: str | int) -> None:
    """Add an attribute to a reply, encoding text for octets-typed attributes."""
    attribute = packet.dict.attributes.get(name)
    if attribute is not None and attribute.type == "octets" and isinstance(value, str):
        packet.AddAttribute(name, value.encode())
    else:
        packet.AddAttribute(name, value)
