"""Sending Disconnect-Requests (RFC 5176) to a router and reading its ACK or NAK."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from pyrad.dictionary import Dictionary
from pyrad.packet import CoAPacket, DisconnectACK, DisconnectNAK, DisconnectRequest

from radius import wire

log = logging.getLogger(__name__)

ERROR_CAUSE = 101


@dataclass(frozen=True, slots=True)
class DisconnectResult:
    """How the router answered: "ack", "nak", "timeout" or "error"."""

    result: str
    attempts: int
    error_cause: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DisconnectRequestSpec:
    """Whom to disconnect, and where: the session identification attributes of RFC 5176 §3."""

    address: str
    port: int
    secret: bytes
    username: str
    acct_session_id: str
    framed_ip: str | None
    mac: str | None
    nas_identifier: str | None


class _Reply(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait(data)


def build_disconnect(spec: DisconnectRequestSpec, dictionary: Dictionary) -> CoAPacket:
    """Return the Disconnect-Request packet for `spec`, Message-Authenticator included."""
    packet = CoAPacket(code=DisconnectRequest, secret=spec.secret, dict=dictionary)
    packet.add_message_authenticator()
    packet.AddAttribute("User-Name", spec.username)
    packet.AddAttribute("Acct-Session-Id", spec.acct_session_id)
    if spec.framed_ip:
        packet.AddAttribute("Framed-IP-Address", spec.framed_ip)
    if spec.mac:
        packet.AddAttribute("Calling-Station-Id", spec.mac)
    if spec.nas_identifier:
        packet.AddAttribute("NAS-Identifier", spec.nas_identifier)
    # RFC 5176 section 3: Event-Timestamp guards against replays when the router checks it.
    packet.AddAttribute("Event-Timestamp", int(datetime.now(UTC).timestamp()))
    return packet


async def send_disconnect(
    spec: DisconnectRequestSpec, *, dictionary: Dictionary, reply_wait: float, tries: int
) -> DisconnectResult:
    """Send a Disconnect-Request, retransmitting the same packet up to `tries` times."""
    request = build_disconnect(spec, dictionary)
    datagram = request.RequestPacket()
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.create_datagram_endpoint(
            _Reply, remote_addr=(spec.address, spec.port)
        )
    except OSError as error:
        return DisconnectResult("error", 0, detail=str(error))
    try:
        for attempt in range(1, tries + 1):
            transport.sendto(datagram)
            deadline = loop.time() + reply_wait
            while (remaining := deadline - loop.time()) > 0:
                try:
                    data = await asyncio.wait_for(protocol.queue.get(), remaining)
                except TimeoutError:
                    break
                result = _read_reply(data, request, spec.secret, dictionary, attempt)
                if result is not None:
                    return result
        return DisconnectResult("timeout", tries)
    finally:
        transport.close()


def _read_reply(
    data: bytes, request: CoAPacket, secret: bytes, dictionary: Dictionary, attempt: int
) -> DisconnectResult | None:
    """Return the result in a valid reply, or None for a datagram to ignore."""
    if len(data) < wire.HEADER_LENGTH or data[1] != request.id:
        return None
    if data[0] not in (DisconnectACK, DisconnectNAK):
        return None
    if not wire.response_authenticator_valid(
        data[: int.from_bytes(data[2:4])], request.authenticator, secret
    ):
        log.warning("Disconnect reply with a bad Response Authenticator ignored")
        return None
    try:
        reply = CoAPacket(packet=data, dict=dictionary, secret=secret)
    except Exception:
        log.warning("undecodable Disconnect reply ignored")
        return None
    if reply.message_authenticator and not reply.verify_message_authenticator(
        original_authenticator=request.authenticator, original_code=request.code
    ):
        log.warning("Disconnect reply with a bad Message-Authenticator ignored")
        return None
    causes = reply.get(ERROR_CAUSE)
    cause = int.from_bytes(causes[0]) if causes else None
    return DisconnectResult("ack" if data[0] == DisconnectACK else "nak", attempt, cause)
