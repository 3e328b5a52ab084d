"""MAC normalisation and grant credentials."""

from __future__ import annotations

import re

import pytest

from cautiva.credentials import (
    PASSWORD_LENGTH,
    SECRET_ALPHABET,
    USERNAME_LENGTH,
    grant_password,
    new_secret,
    new_username,
)
from cautiva.macs import normalise_mac

NORMAL = "AA:BB:CC:0D:EE:F1"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("AA:BB:CC:0D:EE:F1", id="colon"),
        pytest.param("AA-BB-CC-0D-EE-F1", id="dash"),
        pytest.param("aabb.cc0d.eef1", id="cisco-dot"),
        pytest.param("AABBCC0DEEF1", id="bare"),
        pytest.param("aa:bb:cc:0d:ee:f1", id="lower-case"),
        pytest.param("aa-Bb-cC-0d-eE-f1", id="mixed-case"),
        pytest.param("  aa:bb:cc:0d:ee:f1\n", id="surrounding-space"),
    ],
)
def test_normalise_mac_accepts_router_formats(value: str) -> None:
    assert normalise_mac(value) == NORMAL


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("AA:BB:CC:DD:EE", id="too-short"),
        pytest.param("AA:BB:CC:DD:EE:FF:00", id="too-long"),
        pytest.param("GG:BB:CC:DD:EE:FF", id="not-hex"),
        pytest.param("AA:BB:CC:DD:EE:F", id="one-digit-short"),
        pytest.param("10.0.0.1", id="ip-address"),
        pytest.param("user@example.org", id="not-a-mac"),
        pytest.param("AA:BB:CC:DD:EE:FF/24", id="trailing-junk"),
    ],
)
def test_normalise_mac_rejects_invalid_input(value: str | None) -> None:
    assert normalise_mac(value) is None


def test_normalise_mac_is_idempotent() -> None:
    assert normalise_mac(normalise_mac("aabb.cc0d.eef1")) == NORMAL


# --- Grant passwords --------------------------------------------------------------------------

KEY = "k" * 64
OTHER_KEY = "j" * 64


def test_grant_password_is_deterministic_per_key_and_username() -> None:
    assert grant_password(KEY, "abcdefghjk") == grant_password(KEY, "abcdefghjk")


def test_grant_password_differs_across_keys() -> None:
    assert grant_password(KEY, "abcdefghjk") != grant_password(OTHER_KEY, "abcdefghjk")


def test_grant_password_differs_across_usernames() -> None:
    assert grant_password(KEY, "abcdefghjk") != grant_password(KEY, "abcdefghjm")


def test_grant_password_shape() -> None:
    password = grant_password(KEY, "abcdefghjk")
    assert len(password) == PASSWORD_LENGTH == 12
    # Lower-case base32: letters and the digits 2 to 7, easy to type on a phone.
    assert re.fullmatch(r"[a-z2-7]{12}", password)


def test_grant_password_is_not_the_username() -> None:
    assert grant_password(KEY, "abcdefghjk") != "abcdefghjk"


# --- Usernames and secrets ------------------------------------------------------------------


def test_new_username_alphabet_and_length() -> None:
    names = [new_username() for _ in range(300)]
    for name in names:
        assert len(name) == USERNAME_LENGTH == 10
        # No look-alikes: no 0, 1, i, l, o, and no upper case.
        assert re.fullmatch(r"[a-hjkmnp-z2-9]{10}", name), name
    assert len(set(names)) == len(names)
    # Over 3000 random characters the alphabet is used broadly, not a fixed subset.
    assert len(set("".join(names))) >= 25


def test_new_secret_strength() -> None:
    secrets = [new_secret() for _ in range(50)]
    for secret in secrets:
        assert len(secret) == 32
        assert set(secret) <= set(SECRET_ALPHABET)
    assert len(set(secrets)) == len(secrets)
    # Letters of both cases and digits all occur: 62 symbols, about 190 bits per secret.
    joined = "".join(secrets)
    assert any(c.islower() for c in joined)
    assert any(c.isupper() for c in joined)
    assert any(c.isdigit() for c in joined)
    assert len(set(SECRET_ALPHABET)) == 62


def test_new_secret_length_parameter() -> None:
    assert len(new_secret(48)) == 48
    assert len(new_secret(16)) == 16
