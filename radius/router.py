"""Transport-neutral request handling: framing, client lookup, authenticators, duplicates.

The socket loop hands every datagram to `RadiusRouter.handle` and sends back what it returns.
Anything that fails a check is dropped with a log line and a counter, never answered wrongly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from cautiva.models import utcnow
from radius import wire
from radius.accounting import IgnoredStatus, MalformedAccounting
from radius.auth import AuthHandler
from radius.clients import ClientDirectory, RadiusClient
from radius.codec import ReplyEncoder, Request
from radius.dedup import DuplicateCache, DuplicateKey, Pending
from radius.stats import Stats

log = logging.getLogger(__name__)


class Port(StrEnum):
    """Which of the server's sockets a datagram arrived on."""

    AUTH = "auth"
    ACCT = "acct"


@dataclass(frozen=True, slots=True)
class Response:
    """Bytes to send back, and how long to wait first (the reject delay)."""

    packet: bytes
    delay: float = 0.0


class Dropped(Exception):
    """A request that gets no answer; `reason` names the counter."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class RadiusRouter:
    """Checks and dispatches requests from both ports; knows nothing of sockets."""

    def __init__(
        self,
        *,
        encoder: ReplyEncoder,
        clients: ClientDirectory,
        auth: AuthHandler,
        accounting: AccountingSink,
        duplicates: DuplicateCache,
        stats: Stats,
        max_attributes: int,
        reject_delay: float,
        status_seen: Callable[[int], None] | None = None,
    ) -> None:
        self._encoder = encoder
        self._clients = clients
        self._auth = auth
        self._accounting = accounting
        self._duplicates = duplicates
        self._stats = stats
        self._max_attributes = max_attributes
        self._reject_delay = reject_delay
        self._status_seen = status_seen

    async def handle(self, datagram: bytes, source: tuple[str, int], port: Port) -> Response | None:
        """Return the response to `datagram` from `source`, or None to drop it."""
        self._stats.count(f"{port}.received")
        try:
            frame = wire.parse_frame(datagram, max_attributes=self._max_attributes)
        except wire.MalformedPacket as error:
            self._drop("malformed", source, str(error))
            return None
        key = (source[0], source[1], frame.code, frame.identifier, frame.authenticator)
        if frame.code != wire.STATUS_SERVER:
            # RFC 5997 section 3: Status-Server is never answered from the duplicate cache.
            cached = self._duplicates.lookup(key, frame.packet)
            if cached is Pending.IN_PROGRESS:
                self._stats.count("duplicate.in_progress")
                return None
            if cached is Pending.CONFLICT:
                self._drop(
                    "duplicate_conflict",
                    source,
                    "same Identifier and authenticator, other content",
                    frame.nas_identifier,
                )
                return None
            if isinstance(cached, bytes):
                self._stats.count("duplicate.answered_from_cache")
                return Response(cached)
            self._duplicates.begin(key, frame.packet)
        response: Response | None = None
        try:
            response = await self._process(frame, source, port)
        except Dropped as dropped:
            self._drop(dropped.reason, source, str(dropped), frame.nas_identifier)
        except Exception:
            log.exception("unexpected error on a request from %s:%d; dropped", *source)
            self._stats.count("dropped.internal_error")
        finally:
            if frame.code != wire.STATUS_SERVER:
                self._remember(key, response)
        return response

    def _remember(self, key: DuplicateKey, response: Response | None) -> None:
        """Cache the reply; a delayed reject stays in progress until it is sent, so a
        retransmission during the reject delay cannot fetch it early."""
        if response is None or response.delay <= 0:
            self._duplicates.finish(key, response.packet if response else None)
            return
        asyncio.get_running_loop().call_later(
            response.delay, self._duplicates.finish, key, response.packet
        )

    async def _process(self, frame: wire.Frame, source: tuple[str, int], port: Port) -> Response:
        allowed = (
            (wire.ACCESS_REQUEST, wire.STATUS_SERVER)
            if port is Port.AUTH
            else (wire.ACCOUNTING_REQUEST, wire.STATUS_SERVER)
        )
        if frame.code not in allowed:
            raise Dropped("unexpected_code", f"code {frame.code} on the {port} port")
        client = await self._clients.find(nas_identifier=frame.nas_identifier, source=source[0])
        if client is None:
            raise Dropped("unknown_client", f"NAS-Identifier {frame.nas_identifier!r}")
        if client.fixed_address and client.fixed_address != source[0]:
            raise Dropped("wrong_address", f"{client.nas_id} must send from {client.fixed_address}")
        self._verify(frame, client)
        if frame.code == wire.STATUS_SERVER:
            return self._status_server(frame, client, port)
        if frame.code == wire.ACCESS_REQUEST:
            return await self._access_request(frame, client)
        return await self._accounting_request(frame, client, source)

    def _verify(self, frame: wire.Frame, client: RadiusClient) -> None:
        """Check the authenticators with the client's secret (BlastRADIUS: RFC 3579 §3.2)."""
        if frame.code == wire.ACCOUNTING_REQUEST:
            if not wire.request_authenticator_valid(frame.packet, client.secret):
                raise Dropped("bad_authenticator", f"Accounting-Request from {client.nas_id}")
            if frame.has_message_authenticator and not wire.message_authenticator_valid(
                frame.packet, client.secret, authenticator=wire.ZERO_AUTHENTICATOR
            ):
                raise Dropped("bad_message_authenticator", client.nas_id)
            return
        if not frame.has_message_authenticator:
            if frame.code == wire.STATUS_SERVER or client.require_message_authenticator:
                raise Dropped("missing_message_authenticator", client.nas_id)
            self._stats.count("accepted_without_message_authenticator")
            return
        if not wire.message_authenticator_valid(frame.packet, client.secret):
            raise Dropped("bad_message_authenticator", client.nas_id)

    def _status_server(self, frame: wire.Frame, client: RadiusClient, port: Port) -> Response:
        # RFC 5997 section 3: Access-Accept on the auth port, Accounting-Response on acct,
        # both with a Message-Authenticator.
        self._stats.count(f"{port}.status_server")
        if self._status_seen is not None:
            self._status_seen(client.view.id)
        code = wire.ACCESS_ACCEPT if port is Port.AUTH else wire.ACCOUNTING_RESPONSE
        return Response(
            self._encoder.encode(
                code=code,
                request=frame,
                secret=client.secret,
                attributes=(("Reply-Message", "Cautiva RADIUS up"),),
                message_authenticator=True,
            )
        )

    async def _access_request(self, frame: wire.Frame, client: RadiusClient) -> Response:
        try:
            reply = await self._auth.handle(Request(frame), client)
        except wire.MalformedPacket as error:
            raise Dropped("undecodable", str(error)) from None
        packet = self._encoder.encode(
            code=wire.ACCESS_ACCEPT if reply.accepted else wire.ACCESS_REJECT,
            request=frame,
            secret=client.secret,
            attributes=reply.attributes,
            message_authenticator=True,
        )
        if reply.accepted:
            self._stats.count("access.accept")
            return Response(packet)
        self._stats.count("access.reject")
        return Response(packet, delay=self._reject_delay)

    async def _accounting_request(
        self, frame: wire.Frame, client: RadiusClient, source: tuple[str, int]
    ) -> Response:
        try:
            await self._accounting.record(Request(frame), client, source[0], utcnow())
            self._stats.count("accounting.recorded")
        except IgnoredStatus as ignored:
            self._stats.count("accounting.ignored_status")
            log.info(
                "accounting status %s from %s acknowledged, not recorded", ignored, client.nas_id
            )
        except MalformedAccounting as error:
            raise Dropped("malformed_accounting", f"{client.nas_id}: {error}") from None
        except wire.MalformedPacket as error:
            raise Dropped("undecodable", str(error)) from None
        # RFC 2866 section 4.2: an Accounting-Response carries no attributes but Proxy-State.
        return Response(
            self._encoder.encode(
                code=wire.ACCOUNTING_RESPONSE,
                request=frame,
                secret=client.secret,
                attributes=(),
                message_authenticator=False,
            )
        )

    def _drop(
        self, reason: str, source: tuple[str, int], detail: str, nas: str | None = None
    ) -> None:
        self._stats.count(f"dropped.{reason}")
        log.warning("drop from %s:%d (nas %s): %s", source[0], source[1], nas or "?", detail)


class AccountingSink(Protocol):
    """Where Accounting-Requests go; returns once the record is committed."""

    async def record(
        self, request: Request, client: RadiusClient, source: str, now: datetime
    ) -> None:
        """Record the request durably, or raise."""
