"""Router login hand-off: MikroTik http-pap/http-chap and UAM (CoovaChilli, uspot).

Expected values are computed here from the protocol descriptions with hashlib, never by calling
the module under test.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import portal_api
from portal_api.router_login import (
    UAM_PAP_MAX_PASSWORD_BYTES,
    decode_octal_escapes,
    mikrotik_login,
    parse_uam_redirect,
    require_mac,
    uam_logon_url,
    uam_md_valid,
)

# help.mikrotik.com/docs/x/AQAyBQ (HotSpot customisation, login.html variables) gives these
# examples: chap-id "\371", chap-challenge "\357\015\330\013\021\234\145\245\303\253\142\246\133
# \175\375\316". Their octets, converted by hand from octal:
DOC_CHAP_ID = "\\371"
DOC_CHAP_ID_BYTES = b"\xf9"
DOC_CHAP_CHALLENGE = (
    "\\357\\015\\330\\013\\021\\234\\145\\245\\303\\253\\142\\246\\133\\175\\375\\316"
)
DOC_CHAP_CHALLENGE_BYTES = bytes.fromhex("ef0dd80b119c65a5c3ab62a65b7dfdce")

LINK_LOGIN_ONLY = "http://10.5.50.1/login"
CHALLENGE_HEX = "0123456789abcdef0011223344556677"
UAM_SECRET = "uam-test-secret"
PORTAL = "https://portal.example.org/splash"


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


def _chilli_redirect(
    base: str, secret: str, *, userurl: str = "http%3a%2f%2fexample.com%2f"
) -> str:
    """A redirect as chilli's bstring_buildurl writes it, `md` = upper hex MD5(url + secret)."""
    url = (
        f"{base}{'&' if '?' in base else '?'}res=notyet&uamip=10.1.0.1&uamport=3990"
        f"&challenge={CHALLENGE_HEX.upper()}&called=00-11-22-33-44-55&mac=AA-BB-CC-0D-EE-F1"
        f"&ip=10.1.0.23&nasid=terminal-norte&sessionid=5f2a0c3d00000001&userurl={userurl}"
    )
    md = hashlib.md5((url + secret).encode()).hexdigest().upper()
    return f"{url}&md={md}"


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def test_portal_api_is_the_project_package() -> None:
    """The test folder (tests/portal, not tests/portal_api) must not shadow the real package."""
    project = Path(__file__).resolve().parents[2]
    assert Path(portal_api.__file__).resolve() == project / "portal_api" / "__init__.py"


# --- decode_octal_escapes -------------------------------------------------------------------


def test_decodes_the_documented_mikrotik_values() -> None:
    assert decode_octal_escapes(DOC_CHAP_ID) == DOC_CHAP_ID_BYTES
    assert decode_octal_escapes(DOC_CHAP_CHALLENGE) == DOC_CHAP_CHALLENGE_BYTES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", b"", id="empty"),
        pytest.param("abc", b"abc", id="plain"),
        pytest.param("a\\101b", b"aAb", id="mixed"),
        pytest.param("\\000", b"\x00", id="nul"),
        pytest.param("\\377", b"\xff", id="max-octet"),
        pytest.param("\\1234", b"S4", id="three-digits-only"),
        pytest.param("\\134", b"\\", id="escaped-backslash"),
        pytest.param("\\012\\302", b"\n\xc2", id="newline-and-high"),
    ],
)
def test_decode_octal_escapes(text: str, expected: bytes) -> None:
    assert decode_octal_escapes(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\\400", id="above-one-octet"),
        pytest.param("\\777", id="far-above"),
        pytest.param("\\12", id="two-digits"),
        pytest.param("\\8", id="not-octal"),
        pytest.param("abc\\", id="trailing-backslash"),
        pytest.param("\\\\", id="backslash-backslash"),
        pytest.param("\\x41", id="hex-escape"),
        pytest.param("é", id="non-ascii"),
        pytest.param("a\nb", id="control-character"),
    ],
)
def test_decode_octal_escapes_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        decode_octal_escapes(text)


# --- mikrotik_login -------------------------------------------------------------------------


def test_mikrotik_pap_posts_the_plain_password() -> None:
    form = mikrotik_login(
        LINK_LOGIN_ONLY, "k7pqrs2abc", "pw-123", "http://example.com/", None, None
    )
    assert form.method == "post"
    assert form.url == LINK_LOGIN_ONLY
    assert form.fields == {
        "username": "k7pqrs2abc",
        "password": "pw-123",
        "dst": "http://example.com/",
        "popup": "false",
    }


def test_mikrotik_chap_hashes_id_password_challenge() -> None:
    form = mikrotik_login(
        LINK_LOGIN_ONLY, "k7pqrs2abc", "pw-123", None, DOC_CHAP_ID, DOC_CHAP_CHALLENGE
    )
    expected = hashlib.md5(DOC_CHAP_ID_BYTES + b"pw-123" + DOC_CHAP_CHALLENGE_BYTES).hexdigest()
    assert form.fields == {"username": "k7pqrs2abc", "password": expected, "popup": "false"}
    assert expected != hashlib.md5(b"pw-123").hexdigest()


def test_mikrotik_chap_decodes_before_hashing() -> None:
    """Hashing the escape text itself is the classic mistake; it must not match."""
    form = mikrotik_login(LINK_LOGIN_ONLY, "u", "p", None, "\\012", "\\302\\012abc")
    assert form.fields["password"] == hashlib.md5(b"\n" + b"p" + b"\xc2\nabc").hexdigest()
    wrong = hashlib.md5(("\\012" + "p" + "\\302\\012abc").encode()).hexdigest()
    assert form.fields["password"] != wrong


def test_mikrotik_accepts_https_login() -> None:
    form = mikrotik_login("https://hotspot.example.net/login", "u", "p", None, None, None)
    assert form.url == "https://hotspot.example.net/login"


@pytest.mark.parametrize(
    "link",
    [
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("JavaScript://10.5.50.1/%0aalert(1)", id="javascript-slashes"),
        pytest.param("data:text/html,<script>alert(1)</script>", id="data"),
        pytest.param("ftp://10.5.50.1/login", id="ftp"),
        pytest.param("//10.5.50.1/login", id="scheme-relative"),
        pytest.param("/login", id="relative"),
        pytest.param("http://", id="no-host"),
        pytest.param("", id="empty"),
        pytest.param("http://user:pw@10.5.50.1/login", id="userinfo"),
        pytest.param("http://10.5.50.1/lo gin", id="space"),
        pytest.param("http://10.5.50.1/login\r\nX: y", id="crlf"),
        pytest.param("http://[::1/login", id="bad-ipv6"),
        pytest.param("http://10.5.50.1:99999/login", id="bad-port"),
    ],
)
def test_mikrotik_rejects_bad_link_login_only(link: str) -> None:
    with pytest.raises(ValueError):
        mikrotik_login(link, "u", "p", None, None, None)


@pytest.mark.parametrize("dst", ["javascript:alert(1)", "not a url", "", "ftp://x/"])
def test_mikrotik_drops_a_dst_that_is_not_http(dst: str) -> None:
    form = mikrotik_login(LINK_LOGIN_ONLY, "u", "p", dst, None, None)
    assert "dst" not in form.fields


@pytest.mark.parametrize(
    ("chap_id", "chap_challenge"),
    [
        pytest.param("\\371", None, id="id-without-challenge"),
        pytest.param(None, DOC_CHAP_CHALLENGE, id="challenge-without-id"),
        pytest.param("\\371\\372", DOC_CHAP_CHALLENGE, id="two-octet-id"),
        pytest.param("\\371", "\\999", id="bad-challenge"),
    ],
)
def test_mikrotik_rejects_bad_chap_values(chap_id: str | None, chap_challenge: str | None) -> None:
    with pytest.raises(ValueError):
        mikrotik_login(LINK_LOGIN_ONLY, "u", "p", None, chap_id, chap_challenge)


@pytest.mark.parametrize(("username", "password"), [("", "p"), ("u", "")])
def test_mikrotik_rejects_empty_credentials(username: str, password: str) -> None:
    with pytest.raises(ValueError):
        mikrotik_login(LINK_LOGIN_ONLY, username, password, None, None, None)


# --- uam_md_valid ---------------------------------------------------------------------------


def test_md_verifies() -> None:
    assert uam_md_valid(_chilli_redirect(PORTAL, UAM_SECRET), UAM_SECRET)


def test_md_verifies_when_the_homepage_has_a_query() -> None:
    url = _chilli_redirect(PORTAL + "?point=7", UAM_SECRET)
    assert "?point=7&res=notyet" in url
    assert uam_md_valid(url, UAM_SECRET)


def test_md_is_case_insensitive() -> None:
    url = _chilli_redirect(PORTAL, UAM_SECRET)
    head, md = url.rsplit("&md=", 1)
    assert uam_md_valid(f"{head}&md={md.lower()}", UAM_SECRET)


def test_md_rejects_a_tampered_url() -> None:
    url = _chilli_redirect(PORTAL, UAM_SECRET)
    assert not uam_md_valid(url.replace("AA-BB-CC-0D-EE-F1", "AA-BB-CC-0D-EE-F2"), UAM_SECRET)
    assert not uam_md_valid(url.replace("https://", "http://"), UAM_SECRET)


def test_md_rejects_the_wrong_secret() -> None:
    assert not uam_md_valid(_chilli_redirect(PORTAL, UAM_SECRET), UAM_SECRET + "x")


def test_md_rejects_a_missing_md() -> None:
    url = _chilli_redirect(PORTAL, UAM_SECRET)
    assert not uam_md_valid(url.rsplit("&md=", 1)[0], UAM_SECRET)


@pytest.mark.parametrize(
    "suffix",
    [
        pytest.param("&userurl=http%3a%2f%2fevil.example%2f", id="parameter-after-md"),
        pytest.param("0", id="33-digits"),
        pytest.param("#frag", id="fragment"),
    ],
)
def test_md_must_be_the_last_parameter(suffix: str) -> None:
    assert not uam_md_valid(_chilli_redirect(PORTAL, UAM_SECRET) + suffix, UAM_SECRET)


def test_md_rejects_a_truncated_or_non_hex_md() -> None:
    url = _chilli_redirect(PORTAL, UAM_SECRET)
    assert not uam_md_valid(url[:-1], UAM_SECRET)
    assert not uam_md_valid(url[:-1] + "G", UAM_SECRET)


def test_md_rejects_an_empty_secret() -> None:
    with pytest.raises(ValueError):
        uam_md_valid(_chilli_redirect(PORTAL, ""), "")


# --- uam_logon_url --------------------------------------------------------------------------


def _key(secret: str) -> bytes:
    """MD5(challenge octets + uamsecret), or the challenge itself without a secret."""
    challenge = bytes.fromhex(CHALLENGE_HEX)
    return _md5(challenge + secret.encode()) if secret else challenge


def test_uam_pap_xors_password_with_md5_of_challenge_and_secret() -> None:
    url = uam_logon_url("10.1.0.1", 3990, "k7pqrs2abc", "pw-123", CHALLENGE_HEX, UAM_SECRET)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "10.1.0.1:3990", "/logon")
    key = _key(UAM_SECRET)
    expected = bytes(p ^ k for p, k in zip(b"pw-123", key, strict=False)).hex()
    assert _query(url) == {"username": ["k7pqrs2abc"], "password": [expected]}


def test_uam_pap_decodes_the_way_chilli_does() -> None:
    """chilli redir.c: user_password[m] = password[m] ^ chap_challenge[m % 16], len = hex / 2."""
    password = "x" * UAM_PAP_MAX_PASSWORD_BYTES
    url = uam_logon_url("10.1.0.1", "3990", "u", password, CHALLENGE_HEX.upper(), UAM_SECRET)
    sent = bytes.fromhex(_query(url)["password"][0])
    key = _key(UAM_SECRET)
    assert bytes(b ^ key[i % 16] for i, b in enumerate(sent)).decode() == password


def test_uam_pap_refuses_a_password_longer_than_uspot_decodes() -> None:
    with pytest.raises(ValueError):
        uam_logon_url("10.1.0.1", 3990, "u", "x" * 17, CHALLENGE_HEX, UAM_SECRET)


def test_uam_pap_refuses_an_empty_secret() -> None:
    with pytest.raises(ValueError):
        uam_logon_url("10.1.0.1", 3990, "u", "p", CHALLENGE_HEX, "")


def test_uam_chap_response() -> None:
    url = uam_logon_url(
        "10.1.0.1", 3990, "k7pqrs2abc", "pw-123", CHALLENGE_HEX, UAM_SECRET, chap=True
    )
    expected = hashlib.md5(b"\x00" + b"pw-123" + _key(UAM_SECRET)).hexdigest()
    assert _query(url) == {"username": ["k7pqrs2abc"], "response": [expected]}


def test_uam_chap_without_secret_uses_the_challenge_directly() -> None:
    url = uam_logon_url("10.1.0.1", 3990, "u", "pw-123", CHALLENGE_HEX, "", chap=True)
    challenge = bytes.fromhex(CHALLENGE_HEX)
    assert _query(url)["response"] == [hashlib.md5(b"\x00pw-123" + challenge).hexdigest()]


def test_uam_parameters_are_percent_encoded() -> None:
    userurl = "http://example.com/a%20b?x=1&y=2"
    url = uam_logon_url(
        "10.1.0.1", 3990, "a b&c=d/é", "p", CHALLENGE_HEX, UAM_SECRET, chap=True, userurl=userurl
    )
    query = urlsplit(url).query
    assert query.startswith("username=a%20b%26c%3Dd%2F%C3%A9&response=")
    assert "+" not in query
    assert query.endswith("&userurl=http%3A%2F%2Fexample.com%2Fa%2520b%3Fx%3D1%26y%3D2")
    assert _query(url)["userurl"] == [userurl]
    assert _query(url)["username"] == ["a b&c=d/é"]


def test_uam_drops_a_userurl_that_is_not_http() -> None:
    url = uam_logon_url(
        "10.1.0.1", 3990, "u", "p", CHALLENGE_HEX, UAM_SECRET, userurl="javascript:alert(1)"
    )
    assert "userurl" not in _query(url)


def test_uam_ipv6_address_is_bracketed() -> None:
    url = uam_logon_url("fd00::1", 3990, "u", "p", CHALLENGE_HEX, UAM_SECRET, chap=True)
    assert url.startswith("http://[fd00::1]:3990/logon?")


@pytest.mark.parametrize(
    "uamip",
    ["uam.example.com", "10.1.0.256", "", "10.1.0.1:3990", "http://10.1.0.1", "10.1.0.1/24"],
)
def test_uam_rejects_a_uamip_that_is_not_an_ip(uamip: str) -> None:
    with pytest.raises(ValueError):
        uam_logon_url(uamip, 3990, "u", "p", CHALLENGE_HEX, UAM_SECRET)


@pytest.mark.parametrize("port", [0, 65536, -1, "0", "65536", "abc", "", "+80", "39 90", True])
def test_uam_rejects_a_bad_port(port: int | str) -> None:
    with pytest.raises(ValueError):
        uam_logon_url("10.1.0.1", port, "u", "p", CHALLENGE_HEX, UAM_SECRET)


@pytest.mark.parametrize("port", [1, 65535, "3990"])
def test_uam_accepts_ports_in_range(port: int | str) -> None:
    url = uam_logon_url("10.1.0.1", port, "u", "p", CHALLENGE_HEX, UAM_SECRET)
    assert urlsplit(url).port == int(port)


@pytest.mark.parametrize(
    "challenge",
    [CHALLENGE_HEX[:-2], CHALLENGE_HEX + "00", "zz" * 16, "", "0x" + CHALLENGE_HEX[2:]],
)
def test_uam_rejects_a_bad_challenge(challenge: str) -> None:
    with pytest.raises(ValueError):
        uam_logon_url("10.1.0.1", 3990, "u", "p", challenge, UAM_SECRET, chap=True)


@pytest.mark.parametrize(("username", "password"), [("", "p"), ("u", "")])
def test_uam_rejects_empty_credentials(username: str, password: str) -> None:
    with pytest.raises(ValueError):
        uam_logon_url("10.1.0.1", 3990, username, password, CHALLENGE_HEX, UAM_SECRET, chap=True)


# --- parse_uam_redirect and MACs ------------------------------------------------------------


def test_parse_uam_redirect() -> None:
    redirect = parse_uam_redirect(_chilli_redirect(PORTAL, UAM_SECRET), UAM_SECRET)
    assert redirect.res == "notyet"
    assert (redirect.uamip, redirect.uamport) == ("10.1.0.1", 3990)
    assert redirect.challenge == CHALLENGE_HEX.upper()
    assert redirect.mac == "AA:BB:CC:0D:EE:F1"
    assert redirect.ip == "10.1.0.23"
    assert redirect.called == "00-11-22-33-44-55"
    assert redirect.nasid == "terminal-norte"
    assert redirect.sessionid == "5f2a0c3d00000001"
    assert redirect.userurl == "http://example.com/"


def test_parse_uam_redirect_refuses_a_bad_md() -> None:
    url = _chilli_redirect(PORTAL, UAM_SECRET)
    with pytest.raises(ValueError):
        parse_uam_redirect(url, "other-secret")


def test_parse_uam_redirect_drops_a_non_http_userurl() -> None:
    url = _chilli_redirect(PORTAL, UAM_SECRET, userurl="javascript%3aalert(1)")
    assert parse_uam_redirect(url, UAM_SECRET).userurl is None


@pytest.mark.parametrize(
    "value", ["AA-BB-CC-0D-EE-F1", "aa:bb:cc:0d:ee:f1", "aabb.cc0d.eef1", "AABBCC0DEEF1"]
)
def test_require_mac(value: str) -> None:
    assert require_mac(value) == "AA:BB:CC:0D:EE:F1"


@pytest.mark.parametrize("value", [None, "", "---", "AA-BB-CC-0D-EE", "GG-BB-CC-0D-EE-F1"])
def test_require_mac_rejects(value: str | None) -> None:
    with pytest.raises(ValueError):
        require_mac(value)
