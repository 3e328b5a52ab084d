"""Bench users and the request templates built from them with pyrad."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyrad import packet

from bench.wire import (
    ACCESS_REQUEST,
    ACCOUNTING_REQUEST,
    ACCT_SESSION_ID,
    CYCLE_DIGITS,
    MESSAGE_AUTHENTICATOR,
    USER_PASSWORD,
    Template,
    find_attribute,
    pad_password,
)

NAS_IP = "127.0.0.1"
# One accounting session: (status, session time, input octets, output octets).
SESSION_STEPS = (
    ("Start", None, None, None),
    ("Interim-Update", 10, 1_500_000, 12_000_000),
    ("Stop", 20, 3_000_000, 25_000_000),
)


@dataclass(frozen=True, slots=True)
class BenchUser:
    """One login: credentials plus the device (MAC, IP) it always comes from."""

    username: str
    password: str
    mac: str
    ip: str


def make_users(credentials: Sequence[tuple[str, str]]) -> list[BenchUser]:
    """Give each (username, password) its own stable MAC and IP address."""
    users = []
    for index, (username, password) in enumerate(credentials, start=1):
        mac = ":".join(["AA", "BB", "CC", *(f"{(index >> s) & 0xFF:02X}" for s in (16, 8, 0))])
        ip = f"10.{(index >> 16) & 0xFF}.{(index >> 8) & 0xFF}.{index & 0xFF}"
        users.append(BenchUser(username=username, password=password, mac=mac, ip=ip))
    return users


def auth_groups(
    dictionary: Any, secret: bytes, nas_id: str, users: Sequence[BenchUser]
) -> tuple[tuple[Template, ...], ...]:
    """Return one Access-Request template (PAP + Message-Authenticator) per user."""
    groups = []
    for user in users:
        pkt = packet.AuthPacket(code=ACCESS_REQUEST, id=0, secret=secret, dict=dictionary)
        pkt["User-Name"] = user.username
        pkt["User-Password"] = pkt.PwCrypt(user.password)
        pkt["NAS-IP-Address"] = NAS_IP
        pkt["NAS-Identifier"] = nas_id
        pkt["Calling-Station-Id"] = user.mac
        pkt.add_message_authenticator()
        data = pkt.RequestPacket()
        password_offset, password_length = find_attribute(data, USER_PASSWORD)
        plain = pad_password(user.password)
        if len(plain) != password_length:
            raise ValueError(f"unexpected User-Password length for {user.username}")
        groups.append(
            (
                Template(
                    data=data,
                    username=user.username,
                    password=plain,
                    password_offset=password_offset,
                    message_authenticator_offset=find_attribute(data, MESSAGE_AUTHENTICATOR)[0],
                ),
            )
        )
    return tuple(groups)


def session_id_prefix(index: int) -> str:
    """Return the fixed part of user `index`'s Acct-Session-Id (the cycle digits follow)."""
    return f"bench{index:06d}-"


def acct_groups(
    dictionary: Any,
    secret: bytes,
    nas_id: str,
    users: Sequence[BenchUser],
    classes: dict[str, bytes] | None = None,
) -> tuple[tuple[Template, ...], ...]:
    """Return one Start, Interim-Update, Stop session per user; Class is echoed when known."""
    groups = []
    for index, user in enumerate(users):
        prefix = session_id_prefix(index)
        session_id = prefix + "0" * CYCLE_DIGITS
        steps = []
        for status, session_time, octets_in, octets_out in SESSION_STEPS:
            pkt = packet.AcctPacket(code=ACCOUNTING_REQUEST, id=0, secret=secret, dict=dictionary)
            pkt["Acct-Status-Type"] = status
            pkt["Acct-Session-Id"] = session_id
            pkt["User-Name"] = user.username
            pkt["NAS-IP-Address"] = NAS_IP
            pkt["NAS-Identifier"] = nas_id
            pkt["Calling-Station-Id"] = user.mac
            pkt["Framed-IP-Address"] = user.ip
            if classes and classes.get(user.username):
                pkt["Class"] = classes[user.username]
            if session_time is not None:
                pkt["Acct-Session-Time"] = session_time
                pkt["Acct-Input-Octets"] = octets_in
                pkt["Acct-Output-Octets"] = octets_out
                pkt["Acct-Input-Gigawords"] = 0
                pkt["Acct-Output-Gigawords"] = 0
            if status == "Stop":
                pkt["Acct-Terminate-Cause"] = "User-Request"
            data = pkt.RequestPacket()
            value_offset, _ = find_attribute(data, ACCT_SESSION_ID)
            steps.append(
                Template(
                    data=data,
                    username=user.username,
                    cycle_offset=value_offset + len(prefix),
                )
            )
        groups.append(tuple(steps))
    return tuple(groups)


def write_radclient_auth(path: Path, nas_id: str, users: Sequence[BenchUser]) -> None:
    """Write a radclient request file with one Access-Request per user."""
    blocks = [
        "\n".join(
            [
                f'User-Name = "{u.username}"',
                f'User-Password = "{u.password}"',
                f"NAS-IP-Address = {NAS_IP}",
                f'NAS-Identifier = "{nas_id}"',
                f'Calling-Station-Id = "{u.mac}"',
                "Message-Authenticator = 0x00",
            ]
        )
        for u in users
    ]
    path.write_text("\n\n".join(blocks) + "\n")


def write_radclient_acct(path: Path, nas_id: str, users: Sequence[BenchUser]) -> None:
    """Write a radclient request file with a Start, Interim-Update, Stop session per user."""
    blocks = []
    for index, user in enumerate(users):
        session_id = session_id_prefix(index) + "rc"
        for status, session_time, octets_in, octets_out in SESSION_STEPS:
            lines = [
                f"Acct-Status-Type = {status}",
                f'Acct-Session-Id = "{session_id}"',
                f'User-Name = "{user.username}"',
                f"NAS-IP-Address = {NAS_IP}",
                f'NAS-Identifier = "{nas_id}"',
                f'Calling-Station-Id = "{user.mac}"',
                f"Framed-IP-Address = {user.ip}",
            ]
            if session_time is not None:
                lines += [
                    f"Acct-Session-Time = {session_time}",
                    f"Acct-Input-Octets = {octets_in}",
                    f"Acct-Output-Octets = {octets_out}",
                    "Acct-Input-Gigawords = 0",
                    "Acct-Output-Gigawords = 0",
                ]
            if status == "Stop":
                lines.append("Acct-Terminate-Cause = User-Request")
            blocks.append("\n".join(lines))
    path.write_text("\n\n".join(blocks) + "\n")
