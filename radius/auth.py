"""Access-Request handling: check PAP or CHAP, ask the session policy, say what to reply."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cautiva.credentials import grant_password
from cautiva.grants.service import LoginAttempt
from cautiva.macs import normalise_mac
from cautiva.policy import Accept, Decision, RejectReason
from radius import wire
from radius.clients import RadiusClient
from radius.codec import ReplyValue, Request, chap_valid, pap_password

log = logging.getLogger(__name__)

WRONG_PASSWORD = RejectReason.UNKNOWN_CREDENTIAL.value
UNSUPPORTED_METHOD = "Only PAP and CHAP logins are supported."


@dataclass(frozen=True, slots=True)
class AuthReply:
    """Accept or reject, with the attributes to send (by dictionary name)."""

    accepted: bool
    attributes: tuple[tuple[str, ReplyValue], ...]


class AuthHandler:
    """Turns an Access-Request into the attributes of an Access-Accept or Access-Reject."""

    def __init__(
        self, *, secret_key: str, authorize: Callable[[LoginAttempt], Awaitable[Decision]]
    ) -> None:
        self._secret_key = secret_key
        self._authorize = authorize

    async def handle(self, request: Request, client: RadiusClient) -> AuthReply:
        """Decide the request (raises wire.MalformedPacket on undecodable attributes)."""
        username = request.text(wire.USER_NAME)
        mac = normalise_mac(request.text(wire.CALLING_STATION_ID))
        if not username:
            return _reject(WRONG_PASSWORD)
        verdict = self._check_password(request, client, username)
        if verdict is not None:
            log.info("reject %s at %s: %s", username, client.nas_id, verdict)
            return _reject(verdict)
        decision = await self._authorize(
            LoginAttempt(point=client.view, username=username, mac=mac)
        )
        if not isinstance(decision, Accept):
            log.info("reject %s at %s: %s", username, client.nas_id, decision.reason.name)
            return _reject(decision.message)
        # Accepts are the common case: DEBUG keeps busy terminals from flooding the log.
        log.debug(
            "accept %s at %s mac=%s for %ds", username, client.nas_id, mac, decision.session_timeout
        )
        return AuthReply(True, decision.reply)

    def _check_password(self, request: Request, client: RadiusClient, username: str) -> str | None:
        """Return None when PAP or CHAP proves the grant password, else the reason to reject."""
        has_pap = request.has(wire.USER_PASSWORD)
        has_chap = request.has(wire.CHAP_PASSWORD)
        if has_pap == has_chap:
            return UNSUPPORTED_METHOD
        expected = grant_password(self._secret_key, username).encode()
        if has_pap:
            given = pap_password(
                request.raw(wire.USER_PASSWORD) or b"", client.secret, request.frame.authenticator
            )
            ok = given is not None and hmac.compare_digest(given, expected)
        else:
            # RFC 2865 section 2.2: the challenge is CHAP-Challenge, else the authenticator.
            challenge = request.raw(wire.CHAP_CHALLENGE) or request.frame.authenticator
            ok = chap_valid(request.raw(wire.CHAP_PASSWORD) or b"", expected, challenge)
        return None if ok else WRONG_PASSWORD


def _reject(message: str) -> AuthReply:
    return AuthReply(False, (("Reply-Message", message),))
