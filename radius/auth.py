"""Access-Request handling: check PAP or CHAP, ask the session policy, build the reply."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from pyrad.packet import AccessAccept, AccessReject, AuthPacket, PacketError

from cautiva.credentials import grant_password
from cautiva.grants.service import LoginAttempt, password_matches
from cautiva.macs import normalise_mac
from cautiva.policy import Accept, Decision, RejectReason
from radius.attributes import add_reply_attribute, first, text
from radius.clients import RadiusClient

log = logging.getLogger(__name__)

WRONG_PASSWORD = RejectReason.UNKNOWN_CREDENTIAL.value
UNSUPPORTED_METHOD = "Only PAP and CHAP logins are supported."


class AuthHandler:
    """Turns an Access-Request into an Access-Accept or Access-Reject."""

    def __init__(
        self, *, secret_key: str, authorize: Callable[[LoginAttempt], Awaitable[Decision]]
    ) -> None:
        self._secret_key = secret_key
        self._authorize = authorize

    async def handle(self, request: AuthPacket, client: RadiusClient) -> AuthPacket:
        """Decide the request and return the reply packet (Message-Authenticator first)."""
        username = text(request, "User-Name")
        mac = normalise_mac(text(request, "Calling-Station-Id"))
        if not username:
            return _reject(request, WRONG_PASSWORD)
        verdict = self._check_password(request, username)
        if verdict is not None:
            log.info("reject %s at %s: %s", username, client.nas_id, verdict)
            return _reject(request, verdict)
        decision = await self._authorize(
            LoginAttempt(point=client.view, username=username, mac=mac)
        )
        if not isinstance(decision, Accept):
            log.info("reject %s at %s: %s", username, client.nas_id, decision.reason.name)
            return _reject(request, decision.message)
        reply = request.CreateReply()
        reply.code = AccessAccept
        for name, value in decision.reply:
            add_reply_attribute(reply, name, value)
        # Accepts are the common case: DEBUG keeps busy terminals from flooding the log.
        log.debug(
            "accept %s at %s mac=%s for %ds", username, client.nas_id, mac, decision.session_timeout
        )
        return reply

    def _check_password(self, request: AuthPacket, username: str) -> str | None:
        """Return None when PAP or CHAP proves the grant password, else the reason to reject."""
        has_pap = "User-Password" in request
        has_chap = "CHAP-Password" in request
        if has_pap == has_chap:
            return UNSUPPORTED_METHOD
        if has_pap:
            try:
                given = request.PwDecrypt(first(request, "User-Password"))
            except PacketError:
                return WRONG_PASSWORD
            return None if password_matches(self._secret_key, username, given) else WRONG_PASSWORD
        chap = first(request, "CHAP-Password")
        if not isinstance(chap, bytes) or len(chap) != 17:
            return WRONG_PASSWORD
        expected = grant_password(self._secret_key, username)
        return None if request.VerifyChapPasswd(expected) else WRONG_PASSWORD


def _reject(request: AuthPacket, message: str) -> AuthPacket:
    reply = request.CreateReply()
    reply.code = AccessReject
    reply.AddAttribute("Reply-Message", message)
    return reply
