"""Settings from the environment: the CAUTIVA_ prefix, nested sections and the secret key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from cautiva.settings import MIN_SECRET_LENGTH, Environment, Settings

STRONG_KEY = "0123456789abcdef" * 4


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CAUTIVA_* variable from the outside, and a private working folder."""
    for name in list(os.environ):
        if name.upper().startswith("CAUTIVA_"):
            monkeypatch.delenv(name)
    # Settings() without CAUTIVA_DATA_DIR writes under ./var: keep that inside tmp_path.
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("CAUTIVA_DATA_DIR", str(path))
    return path


def test_defaults(data_dir: Path) -> None:
    settings = Settings()
    assert settings.env is Environment.DEVELOPMENT
    assert settings.data_dir == data_dir
    assert settings.radius.auth_port == 1812
    assert settings.radius.acct_port == 1813
    assert settings.session.limit == 3600
    assert settings.portal.port == 8000


def test_default_database_is_sqlite_under_the_data_dir(data_dir: Path) -> None:
    settings = Settings()
    assert settings.database.url == f"sqlite+aiosqlite:///{data_dir / 'cautiva.db'}"


def test_top_level_fields_read_the_cautiva_prefix(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setenv("CAUTIVA_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("SECRET_KEY", "without-the-prefix")
    assert Settings().secret_key == "from-the-environment"


def test_nested_radius_section(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("CAUTIVA_RADIUS_AUTH_PORT", "11812")
    monkeypatch.setenv("CAUTIVA_RADIUS_ACCT_PORT", "11813")
    monkeypatch.setenv("CAUTIVA_RADIUS_REJECT_DELAY", "0.25")
    settings = Settings()
    assert settings.radius.auth_port == 11812
    assert settings.radius.acct_port == 11813
    assert settings.radius.reject_delay == 0.25


def test_nested_session_section(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("CAUTIVA_SESSION_LIMIT", "1800")
    monkeypatch.setenv("CAUTIVA_SESSION_RATE_DOWN_KBPS", "512")
    settings = Settings()
    assert settings.session.limit == 1800
    assert settings.session.rate_down_kbps == 512


def test_nested_database_url(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    url = "postgresql+asyncpg://cautiva:pw@db.example:5432/cautiva"
    monkeypatch.setenv("CAUTIVA_DATABASE_URL", url)
    assert Settings().database.url == url


def test_nested_values_are_validated(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("CAUTIVA_RADIUS_AUTH_PORT", "70000")
    with pytest.raises(ValidationError):
        Settings()


def test_session_limit_below_a_minute_is_refused(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setenv("CAUTIVA_SESSION_LIMIT", "10")
    with pytest.raises(ValidationError):
        Settings()


# --- The secret key ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("changeme", id="changeme"),
        pytest.param("testing123", id="testing123"),
        pytest.param("x" * (MIN_SECRET_LENGTH - 1), id="too-short"),
    ],
)
def test_production_refuses_a_missing_or_weak_secret_key(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, key: str | None
) -> None:
    monkeypatch.setenv("CAUTIVA_ENV", "production")
    if key is not None:
        monkeypatch.setenv("CAUTIVA_SECRET_KEY", key)
    with pytest.raises(ValidationError) as caught:
        Settings()
    message = str(caught.value)
    assert "CAUTIVA_SECRET_KEY" in message
    assert f"at least {MIN_SECRET_LENGTH}" in message
    assert "production" in message
    # Production never falls back to a generated key.
    assert not (data_dir / "secret_key").exists()


def test_production_accepts_a_strong_secret_key(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setenv("CAUTIVA_ENV", "production")
    monkeypatch.setenv("CAUTIVA_SECRET_KEY", STRONG_KEY)
    settings = Settings()
    assert settings.env is Environment.PRODUCTION
    assert settings.secret_key == STRONG_KEY
    assert not (data_dir / "secret_key").exists()


def test_development_generates_and_persists_a_key(data_dir: Path) -> None:
    first = Settings()
    path = data_dir / "secret_key"
    assert path.exists()
    assert len(first.secret_key) >= MIN_SECRET_LENGTH
    assert path.read_text().strip() == first.secret_key
    # Only the owner may read it.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The next process reuses it, so grant passwords survive a restart.
    assert Settings().secret_key == first.secret_key


def test_development_keys_differ_between_data_dirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CAUTIVA_DATA_DIR", str(tmp_path / "one"))
    one = Settings().secret_key
    monkeypatch.setenv("CAUTIVA_DATA_DIR", str(tmp_path / "two"))
    two = Settings().secret_key
    assert one != two


def test_development_keeps_an_explicit_key(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("CAUTIVA_SECRET_KEY", "short-dev-key")
    assert Settings().secret_key == "short-dev-key"
    assert not (data_dir / "secret_key").exists()


def test_constructor_arguments_override_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CAUTIVA_ENV", "production")
    settings = Settings(env="development", secret_key="dev", data_dir=tmp_path / "args")
    assert settings.env is Environment.DEVELOPMENT
    assert settings.secret_key == "dev"
    assert settings.database.url.endswith(str(tmp_path / "args" / "cautiva.db"))


def test_development_secret_never_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CAUTIVA_"):
            monkeypatch.delenv(name)
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret_key").write_text("\n")  # e.g. a crash between creating and writing it
    monkeypatch.setenv("CAUTIVA_DATA_DIR", str(data))
    assert Settings().secret_key != ""


def test_development_secret_is_created_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key file is created with mode 0600 (not chmod-ed after a world-readable write)."""
    for name in list(os.environ):
        if name.startswith("CAUTIVA_"):
            monkeypatch.delenv(name)
    opened: list[tuple[str, int, int]] = []
    real_open = os.open

    def spy(path: str, flags: int, mode: int = 0o777, *args: object) -> int:
        opened.append((str(path), flags, mode))
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", spy)
    monkeypatch.setenv("CAUTIVA_DATA_DIR", str(tmp_path / "d"))
    old = os.umask(0o000)
    try:
        Settings()
    finally:
        os.umask(old)
    created = [c for c in opened if c[0].endswith("secret_key")]
    assert created and created[0][2] == 0o600 and created[0][1] & os.O_EXCL
    assert stat.S_IMODE((tmp_path / "d" / "secret_key").stat().st_mode) == 0o600
