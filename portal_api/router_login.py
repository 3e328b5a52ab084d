"""Hand-off from the portal to the router's login: MikroTik HotSpot and UAM (CoovaChilli, uspot).

Pure functions, no I/O. Sources for the protocol details (cited again where they bite):
- MikroTik HotSpot customisation, https://help.mikrotik.com/docs/x/AQAyBQ ("login.html ...
  password - either plain-text password (PAP) or MD5 hash of chap-id variable, password, and CHAP
  challenge"),
  variables `chap-id` ("\\371") and `chap-challenge` ("\\357\\015\\330...") are octal-escaped.
- CoovaChilli `src/redir.c` (github.com/coova/coova-chilli): `bstring_buildurl`/`redir_md_param`,
  the `/logon` parameter parsing and `redir_radius`; `doc/hotspotlogin.cgi` is the reference portal.
- uspot (github.com/f00b4r0/uspot): `files/usr/share/uspot/portal.uc` (`uam_url`),
  `handler-uam.uc` (`/logon`) and `src/uam.c` (`password`, `chap_challenge`, `md5`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, quote, urlsplit

from cautiva.macs import normalise_mac
from cautiva.models import NasType

# A UAM challenge is 16 random octets sent as 32 hex digits (chilli `redir_challenge`, REDIR_MD5LEN;
# uspot sends an MD5 digest as its challenge).
UAM_CHALLENGE_BYTES = 16
# uspot XORs only the first MIN(len, 16) password octets (`src/uam.c` uc_password), while chilli
# repeats the 16-octet key over the whole password (`redir.c` redir_radius, REDIR_AUTH_PAP). Both
# agree only up to 16 octets, so a PAP password longer than this is refused.
UAM_PAP_MAX_PASSWORD_BYTES = 16
# MikroTik's CHAP identifier is one octet (RFC 1994 section 4.1; login.html example "\371").
MIKROTIK_CHAP_ID_BYTES = 1

_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")
_HEX32 = re.compile(r"[0-9A-Fa-f]{32}")
_PORT = re.compile(r"[0-9]{1,5}")
_MD_MARKER = "&md="


@dataclass(frozen=True)
class LoginForm:
    """A form the browser must submit to the router (auto-submitted by the portal's page)."""

    method: Literal["post"]
    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class UamRedirect:
    """The parameters of a verified UAM redirect (`res=notyet&uamip=...&md=...`)."""

    res: str
    uamip: str
    uamport: int
    challenge: str
    mac: str | None
    ip: str | None
    called: str | None
    nasid: str | None
    sessionid: str | None
    userurl: str | None


def _md5(data: bytes) -> bytes:
    """MD5 digest; the router protocols fix the algorithm, it is not a security choice of ours."""
    return hashlib.md5(data, usedforsecurity=False).digest()


def is_http_url(value: str) -> bool:
    """True for an absolute http(s) URL with a host and no whitespace or control characters."""
    if not value or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host) and parts.username is None


def _redirect_target(value: str | None) -> str | None:
    """The original URL if it is a plain http(s) URL, else None (not worth a failed login)."""
    if value is None:
        return None
    value = value.strip()
    return value if is_http_url(value) else None


def decode_octal_escapes(value: str) -> bytes:
    """Decode MikroTik's `\\NNN` octal escapes to bytes; other printable ASCII passes through."""
    # MikroTik renders every octet of $(chap-id)/$(chap-challenge) as a three-digit octal escape
    # meant for a JavaScript string literal (help.mikrotik.com/docs/x/AQAyBQ: "\357\015\330...").
    # Anything else is a mangled value: refuse it rather than hash the wrong bytes.
    out = bytearray()
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            match = _OCTAL_ESCAPE.match(value, i)
            if match is None:
                raise ValueError(f"malformed octal escape at position {i}")
            code = int(match.group(1), 8)
            if code > 0xFF:
                raise ValueError(f"octal escape \\{match.group(1)} is larger than one octet")
            out.append(code)
            i = match.end()
            continue
        if not " " <= ch <= "~":
            raise ValueError(f"unexpected character {ch!r} at position {i}")
        out.append(ord(ch))
        i += 1
    return bytes(out)


def mikrotik_chap_password(password: str, chap_id: str, chap_challenge: str) -> str:
    """Hex MD5(chap-id + password + chap-challenge), as MikroTik's login.html computes it."""
    # login.html: hexMD5('$(chap-id)' + password + '$(chap-challenge)'), the escapes decoded to
    # octets by the JavaScript literal first; hexMD5 (md5.js) gives lower-case hex.
    id_bytes = decode_octal_escapes(chap_id)
    challenge = decode_octal_escapes(chap_challenge)
    if len(id_bytes) != MIKROTIK_CHAP_ID_BYTES:
        raise ValueError("chap-id must decode to exactly one octet")
    if not challenge:
        raise ValueError("chap-challenge is empty")
    return _md5(id_bytes + password.encode("utf-8") + challenge).hex()


def mikrotik_login(
    link_login_only: str,
    username: str,
    password: str,
    dst: str | None,
    chap_id: str | None,
    chap_challenge: str | None,
) -> LoginForm:
    """The POST to MikroTik's `link-login-only`: http-pap without chap values, else http-chap."""
    if not is_http_url(link_login_only):
        raise ValueError("link-login-only must be an absolute http(s) URL")
    if not username:
        raise ValueError("username is empty")
    if not password:
        raise ValueError("password is empty")
    has_id, has_challenge = bool(chap_id), bool(chap_challenge)
    if has_id != has_challenge:
        raise ValueError("chap-id and chap-challenge come together or not at all")
    if chap_id and chap_challenge:
        sent_password = mikrotik_chap_password(password, chap_id, chap_challenge)
    else:
        # http-pap: the plain password (help.mikrotik.com/docs/x/AQAyBQ, login.html parameters).
        sent_password = password
    fields = {"username": username, "password": sent_password}
    target = _redirect_target(dst)
    if target is not None:
        fields["dst"] = target
    # popup=false: no status window; the captive pop-up browser closes once internet works.
    fields["popup"] = "false"
    return LoginForm(method="post", url=link_login_only, fields=fields)


def uam_md_valid(full_url: str, uam_secret: str) -> bool:
    """Check the `md` of a UAM redirect: upper-case hex MD5(URL before `&md=` + secret)."""
    # chilli redir.c redir_md_param: MD5 over the whole URL built so far (uamhomepage + "?res=..."),
    # then the secret; "&md=" + "%.2X" x16 appended last. uspot portal.uc uam_url does the same.
    # Pass the URL exactly as received: any re-encoding changes the digest.
    if not uam_secret:
        # Neither router appends md without a secret; an empty secret would authenticate nothing.
        raise ValueError("the UAM secret is empty")
    cut = full_url.rfind(_MD_MARKER)
    if cut < 0:
        return False
    received = full_url[cut + len(_MD_MARKER) :]
    if not _HEX32.fullmatch(received):
        # md must be the last parameter: anything after it would be unauthenticated.
        return False
    signed = full_url[:cut].encode("utf-8") + uam_secret.encode("utf-8")
    expected = _md5(signed).hex().upper()
    return hmac.compare_digest(expected, received.upper())


def _uam_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The router's UAM address; only an IP literal is accepted (never a host name)."""
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        raise ValueError("uamip must be an IP address") from None


def _client_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The client's address from the redirect."""
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        raise ValueError("ip must be an IP address") from None


def _uam_port(value: int | str) -> int:
    """The router's UAM port as an int in 1..65535."""
    if isinstance(value, bool):
        raise ValueError("uamport must be an integer")
    if isinstance(value, str):
        if not _PORT.fullmatch(value.strip()):
            raise ValueError("uamport must be an integer")
        value = int(value.strip())
    if not 1 <= value <= 65535:
        raise ValueError("uamport must be in 1..65535")
    return value


def _uam_challenge(challenge_hex: str) -> bytes:
    """The 16-octet challenge from its 32 hex digits (either case)."""
    if not _HEX32.fullmatch(challenge_hex.strip()):
        raise ValueError("challenge must be 32 hex digits")
    return bytes.fromhex(challenge_hex.strip())


def _uam_key(challenge: bytes, uam_secret: str) -> bytes:
    """MD5(challenge + uamsecret), or the bare challenge when there is no secret."""
    # chilli redir.c redir_radius: `if (redir->secret && *redir->secret)` MD5(uamchal + secret)
    # else memcpy(chap_challenge, uamchal); uspot handler-uam.uc does the same for CHAP.
    if uam_secret:
        return _md5(challenge + uam_secret.encode("utf-8"))
    return challenge


def uam_pap_password(password: str, challenge_hex: str, uam_secret: str) -> str:
    """Hex of password XOR MD5(challenge + uamsecret), the UAM `password=` value."""
    if not uam_secret:
        # With no secret chilli still expects hex(password XOR challenge) but uspot expects the
        # plain password (handler-uam.uc: `!uam_secret ? password : uam.password(...)`): the two
        # disagree, so refuse and let the caller use CHAP (identical on both).
        raise ValueError("UAM PAP needs a UAM secret; use CHAP without one")
    raw = password.encode("utf-8")
    if len(raw) > UAM_PAP_MAX_PASSWORD_BYTES:
        raise ValueError(f"a UAM PAP password is at most {UAM_PAP_MAX_PASSWORD_BYTES} octets")
    key = _uam_key(_uam_challenge(challenge_hex), uam_secret)
    # No padding: chilli takes len = hex length / 2 (redir.c papmsg.len) and uspot stops at the
    # first NUL; both XOR octet i with key[i % 16] (hotspotlogin.cgi repeats $newchal).
    return bytes(b ^ key[i % len(key)] for i, b in enumerate(raw)).hex()


def uam_chap_response(password: str, challenge_hex: str, uam_secret: str) -> str:
    """Hex MD5(0x00 + password + MD5(challenge + uamsecret)), the UAM `response=` value."""
    # CHAP identifier 0: chilli uses `ident=` from the logon URL, defaulting to 0 (redir.c);
    # hotspotlogin.cgi: md5_hex("\0", password, $newchal).
    key = _uam_key(_uam_challenge(challenge_hex), uam_secret)
    return _md5(b"\x00" + password.encode("utf-8") + key).hex()


def uam_logon_url(
    uamip: str,
    uamport: int | str,
    username: str,
    password: str,
    challenge_hex: str,
    uam_secret: str,
    *,
    chap: bool = False,
    userurl: str | None = None,
) -> str:
    """The `http://uamip:uamport/logon?username=...` URL the browser is sent to."""
    address = _uam_ip(uamip)
    port = _uam_port(uamport)
    if not username:
        raise ValueError("username is empty")
    if not password:
        raise ValueError("password is empty")
    host = f"[{address}]" if address.version == 6 else str(address)
    if chap:
        secret_param = ("response", uam_chap_response(password, challenge_hex, uam_secret))
    else:
        secret_param = ("password", uam_pap_password(password, challenge_hex, uam_secret))
    params = [("username", username), secret_param]
    target = _redirect_target(userurl)
    if target is not None:
        params.append(("userurl", target))
    # Percent-encode everything but unreserved characters: chilli's decoder knows %XX but not "+"
    # for a space (redir.c redir_urldecode), nor does uspot (portal.uc handle_request).
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in params)
    return f"http://{host}:{port}/logon?{query}"


def require_mac(value: str | None) -> str:
    """A client MAC in `AA:BB:CC:DD:EE:FF` form from any router spelling (dashes, colons, dots)."""
    mac = normalise_mac(value)
    if mac is None:
        raise ValueError("not a MAC address")
    return mac


def parse_uam_redirect(full_url: str, uam_secret: str) -> UamRedirect:
    """Verify a UAM redirect's `md` and return its parameters (MAC normalised)."""
    if not uam_md_valid(full_url, uam_secret):
        raise ValueError("the UAM redirect's md does not verify")
    query = urlsplit(full_url).query
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        # First occurrence wins: the router writes its own parameters before `userurl`, which
        # uspot does not percent-encode (portal.uc uam_url), so its query may leak names.
        params.setdefault(name, value)
    for name in ("res", "uamip", "uamport", "challenge"):
        if not params.get(name):
            raise ValueError(f"parameter {name!r} is missing")
    _uam_challenge(params["challenge"])
    mac_value = params.get("mac")
    ip_value = params.get("ip")
    return UamRedirect(
        res=params["res"],
        uamip=str(_uam_ip(params["uamip"])),
        uamport=_uam_port(params["uamport"]),
        challenge=params["challenge"].upper(),
        mac=require_mac(mac_value) if mac_value else None,
        ip=str(_client_ip(ip_value)) if ip_value else None,
        called=params.get("called") or None,
        nasid=params.get("nasid") or None,
        sessionid=params.get("sessionid") or None,
        userurl=_redirect_target(params.get("userurl")),
    )


@dataclass(frozen=True)
class LoginStep:
    """How the browser logs in: a POST form (MikroTik) or a GET to UAM `/logon` (chilli, uspot)."""

    method: Literal["post", "get"]
    url: str
    fields: dict[str, str]


def login_step(
    nas_type: NasType | str,
    uam_secret: str | None,
    params: dict[str, str],
    username: str,
    password: str,
    *,
    result_url: str | None = None,
) -> LoginStep | None:
    """The login for the point's router from its redirect parameters; None without them.

    `result_url` replaces MikroTik's `dst` so that the router sends the browser to the portal's
    result page after login (which links on to the page first asked for). Raises ValueError for
    unusable parameters.
    """
    if NasType(nas_type) is NasType.MIKROTIK:
        link = params.get("link-login-only")
        if not link:
            return None
        form = mikrotik_login(
            link,
            username,
            password,
            result_url or params.get("link-orig"),
            params.get("chap-id") or None,
            params.get("chap-challenge") or None,
        )
        return LoginStep(method="post", url=form.url, fields=dict(form.fields))
    if not params.get("uamip") or not params.get("challenge"):
        return None
    url = uam_logon_url(
        params["uamip"],
        params.get("uamport", "3990"),
        username,
        password,
        params["challenge"],
        uam_secret or "",
        # Without a UAM secret PAP is ambiguous between chilli and uspot; CHAP is not.
        chap=not uam_secret,
        userurl=params.get("userurl"),
    )
    return LoginStep(method="get", url=url, fields={})
