"""Settings from the environment (prefix `CAUTIVA_`), split into nested sections."""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from ipaddress import IPv4Network
from pathlib import Path
from typing import Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WEAK_SECRETS = frozenset({"", "changeme", "change-me", "secret", "testing123", "password"})
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    """Where the process runs: development relaxes the secret checks."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class DatabaseSettings(BaseSettings):
    """`CAUTIVA_DATABASE_*`: where the data lives."""

    model_config = SettingsConfigDict(env_prefix="CAUTIVA_DATABASE_", extra="ignore")

    url: str = ""
    echo: bool = False
    pool_size: int = 10


class RadiusSettings(BaseSettings):
    """`CAUTIVA_RADIUS_*`: the RADIUS server's sockets and protections."""

    model_config = SettingsConfigDict(env_prefix="CAUTIVA_RADIUS_", extra="ignore")

    host: str = "0.0.0.0"
    auth_port: int = Field(default=1812, ge=0, le=65535)
    acct_port: int = Field(default=1813, ge=0, le=65535)
    # RFC 2865 leaves the delay to the server; FreeRADIUS defaults to one second.
    reject_delay: float = Field(default=1.0, ge=0, le=10)
    max_attributes: int = Field(default=100, ge=10, le=1000)
    # RFC 5080 section 2.2.2: keep replies long enough to cover the client's retransmissions.
    duplicate_ttl: float = Field(default=30.0, gt=0)
    duplicate_max_entries: int = Field(default=65536, ge=16)
    point_cache_ttl: float = Field(default=5.0, ge=0)
    batch_max: int = Field(default=128, ge=1, le=4096)
    # Concurrent database transactions for logins and for accounting (PostgreSQL only).
    db_workers: int = Field(default=2, ge=1, le=32)
    coa_timeout: float = Field(default=2.0, gt=0)
    coa_retries: int = Field(default=3, ge=1, le=10)
    sweep_interval: float = Field(default=15.0, gt=0)
    # Seconds between writes of the points' last Status-Server (the admin's online status).
    status_flush_interval: float = Field(default=30.0, gt=0)
    stats_file: Path | None = None


class PortalSettings(BaseSettings):
    """`CAUTIVA_PORTAL_*`: the splash portal's HTTP listener."""

    model_config = SettingsConfigDict(env_prefix="CAUTIVA_PORTAL_", extra="ignore")

    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=0, le=65535)
    # Where phones reach the portal (https://...); links in API answers use it, else the
    # request's own base URL (wrong behind a proxy that rewrites the host or scheme).
    public_url: str = ""
    # Requests per minute to the splash flow and the survey API, per device (its MAC, else its
    # address) and per point (every phone behind a point's NAT shares that point's budget).
    rate_per_device: int = Field(default=60, ge=0)
    rate_per_point: int = Field(default=3000, ge=0)
    # Seconds between writes of the buffered funnel counts (splash opened, consent, ...).
    counter_flush_interval: float = Field(default=5.0, gt=0, le=300)


class AdminSettings(BaseSettings):
    """`CAUTIVA_ADMIN_*`: how the admin judges the points."""

    model_config = SettingsConfigDict(env_prefix="CAUTIVA_ADMIN_", extra="ignore")

    # A point not heard from (heartbeat, accounting) for this many seconds shows as offline.
    offline_after: int = Field(default=900, ge=60, le=7 * 86400)
    # Risk-prevention videos are watched on slow links before login: keep them short.
    video_max_mb: int = Field(default=20, ge=1, le=500)


class RouterSettings(BaseSettings):
    """`CAUTIVA_ROUTER_*`: what the generated router scripts point the routers at."""

    model_config = SettingsConfigDict(env_prefix="CAUTIVA_ROUTER_", extra="ignore")

    # Where routers send RADIUS (name or address); empty leaves a placeholder in the scripts.
    radius_address: str = Field(default="", pattern=r"^[A-Za-z0-9.:-]*$", max_length=253)
    radius_address_2: str = Field(default="", pattern=r"^[A-Za-z0-9.:-]*$", max_length=253)
    # The portal as phones reach it; empty: CAUTIVA_PORTAL_PUBLIC_URL, else http://RADIUS:PORT.
    portal_url: str = ""
    # The clients' network behind the router (IPv4: the MikroTik hotspot and chilli are IPv4).
    captive_network: IPv4Network = IPv4Network("10.1.0.0/24")
    # The interface the hotspot serves: a RouterOS bridge, or an OpenWrt bridge device name
    # (at most 15 characters, Linux IFNAMSIZ).
    hotspot_interface: str = Field(
        default="bridge-hotspot", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$"
    )

    @field_validator("captive_network")
    @classmethod
    def _room_for_clients(cls, value: IPv4Network) -> IPv4Network:
        if value.num_addresses < 8:
            raise ValueError("the captive network needs room for clients (at most a /29)")
        return value


class SessionSettings(BaseSettings):
    """`CAUTIVA_SESSION_*`: the rules of one free session."""

    model_config = SettingsConfigDict(env_prefix="CAUTIVA_SESSION_", extra="ignore")

    limit: int = Field(default=3600, ge=60, le=86400)
    idle_timeout: int = Field(default=600, ge=0, le=86400)
    interim_interval: int = Field(default=300, ge=60, le=86400)
    # A grant must be used for its first login within this window after it is issued.
    login_window: int = Field(default=900, ge=30, le=86400)
    # After its first login a grant can be used to reconnect for this long (if time is left).
    grant_max_age: int = Field(default=86400, ge=60)
    # How far past its time a session may run before the server sends a Disconnect-Request.
    overrun_grace: int = Field(default=60, ge=0, le=3600)
    # Sessions silent for this many interim intervals are closed as stale.
    stale_intervals: float = Field(default=2.5, ge=1)
    rate_down_kbps: int = Field(default=2048, ge=0)
    rate_up_kbps: int = Field(default=1024, ge=0)


class SurveySettings(BaseSettings):
    """`CAUTIVA_SURVEY_*`: who counts as returning, and what counts as a double submission."""

    model_config = SettingsConfigDict(env_prefix="CAUTIVA_SURVEY_", extra="ignore")

    # A person who answered within this many days gets the short follow-up form.
    returning_days: int = Field(default=30, ge=0, le=3650)
    # The same answers from the same point and device within this many seconds are one response.
    duplicate_window: int = Field(default=300, ge=0, le=86400)


class AnalyticsSettings(BaseSettings):
    """`CAUTIVA_ANALYTICS_*`: what dashboards and shared figures may show, and what is kept."""

    model_config = SettingsConfigDict(env_prefix="CAUTIVA_ANALYTICS_", extra="ignore")

    # Counts from 1 to this minus one are hidden on dashboards and in shared aggregates.
    small_cell_threshold: int = Field(default=5, ge=1, le=100)
    # `cautiva purge` drops raw sessions, grants and person keys older than this many days.
    retention_days: int = Field(default=365, ge=1, le=36500)


class AlertSettings(BaseSettings):
    """`CAUTIVA_ALERTS_*`: where alerts are sent, and when points raise operational alerts."""

    model_config = SettingsConfigDict(env_prefix="CAUTIVA_ALERTS_", extra="ignore")

    # Empty: alerts stay on the dashboard only.
    webhook_url: str = ""
    # Keys the HMAC-SHA256 signature of every webhook body (header X-Cautiva-Signature).
    webhook_secret: str = ""
    webhook_attempts: int = Field(default=6, ge=1, le=50)
    # The first retry waits this long; each later one twice as long as the one before.
    webhook_backoff: float = Field(default=30.0, gt=0, le=86400)
    webhook_timeout: float = Field(default=10.0, gt=0, le=300)
    # How often the portal looks for deliveries due and for operational alerts.
    check_interval: float = Field(default=60.0, gt=0, le=3600)
    # A point unheard for this long raises an alert (per point: `cautiva point set`).
    offline_minutes: int = Field(default=120, ge=5, le=30 * 1440)
    # Completed surveys in the last 24 hours under this share of the daily mean of the 7 days
    # before raise an alert, when that mean is at least `survey_drop_min`.
    survey_drop_ratio: float = Field(default=0.5, gt=0, lt=1)
    survey_drop_min: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _secret_with_url(self) -> AlertSettings:
        if self.webhook_url and len(self.webhook_secret) < 16:
            raise ValueError(
                "CAUTIVA_ALERTS_WEBHOOK_SECRET must hold at least 16 characters "
                "when CAUTIVA_ALERTS_WEBHOOK_URL is set"
            )
        return self


class Settings(BaseSettings):
    """All of Cautiva's settings; build one per process at start-up with `Settings()`."""

    model_config = SettingsConfigDict(env_prefix="CAUTIVA_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("var")
    # Keys the HMACs behind grant passwords and pseudonymous person keys.
    secret_key: str = ""
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    radius: RadiusSettings = Field(default_factory=RadiusSettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)
    session: SessionSettings = Field(default_factory=SessionSettings)
    survey: SurveySettings = Field(default_factory=SurveySettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    router: RouterSettings = Field(default_factory=RouterSettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    @model_validator(mode="after")
    def _fill_defaults_and_check_secrets(self) -> Self:
        if not self.database.url:
            self.database.url = f"sqlite+aiosqlite:///{self.data_dir / 'cautiva.db'}"
        if self.env is Environment.PRODUCTION:
            if self.secret_key in WEAK_SECRETS or len(self.secret_key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"CAUTIVA_SECRET_KEY must be at least {MIN_SECRET_LENGTH} random characters "
                    "in production (generate one with: python -c "
                    "'import secrets; print(secrets.token_hex(32))')"
                )
        elif not self.secret_key:
            self.secret_key = _development_secret(self.data_dir)
        return self


def _development_secret(data_dir: Path) -> str:
    """Return the development secret kept under the data folder, creating it once."""
    path = data_dir / "secret_key"
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value
        path.unlink()  # left empty by an interrupted first start
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    # Created private (never readable by others, not even for a moment) and exclusively.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value + "\n")
    return value
