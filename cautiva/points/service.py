"""Rules for points: valid identifiers, strong secrets, lookups by id or NAS-Identifier."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.credentials import new_secret
from cautiva.errors import Conflict, InvalidInput, NotFound
from cautiva.models import NasType, Point, utcnow
from cautiva.points.repository import PointRepository
from cautiva.policy import PointView
from cautiva.settings import WEAK_SECRETS

# RouterOS identities and chilli radiusnasid values: keep them to safe printable characters.
_NAS_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
MIN_POINT_SECRET_LENGTH = 16
# RFC 2865 section 3: a secret longer than 16 octets adds nothing after MD5, but
# routers accept longer ones and we generate 32 characters; keep within what they accept.
MAX_POINT_SECRET_LENGTH = 64
# IEEE 802.11: an SSID is 0-32 octets; phones show it as UTF-8.
MAX_SSID_BYTES = 32


@dataclass(frozen=True, slots=True)
class NewPoint:
    """What a technician gives to add a point."""

    name: str
    nas_id: str
    nas_type: NasType
    secret: str | None = None
    fixed_address: str | None = None
    department: str | None = None
    municipality: str | None = None
    site_type: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    coa_port: int = 3799
    ssid: str | None = None


@dataclass(frozen=True, slots=True)
class PointChanges:
    """Settings a technician may change on a point; None leaves a value as it is."""

    coa_port: int | None = None
    require_message_authenticator: bool | None = None
    fixed_address: str | None = None
    clear_fixed_address: bool = False
    rate_down_kbps: int | None = None
    rate_up_kbps: int | None = None
    ssid: str | None = None
    clear_ssid: bool = False
    name: str | None = None


def check_port(port: int) -> int:
    """Return `port` if it is a valid UDP port, else raise InvalidInput."""
    if not 1 <= port <= 65535:
        raise InvalidInput(f"not a UDP port: {port}")
    return port


def check_secret(secret: str) -> str:
    """Return `secret` if it is strong enough for a RADIUS point, else raise InvalidInput."""
    if secret.lower() in WEAK_SECRETS or len(secret) < MIN_POINT_SECRET_LENGTH:
        raise InvalidInput(
            f"secret too weak: use at least {MIN_POINT_SECRET_LENGTH} random characters "
            "(or leave it out to generate one)"
        )
    if len(secret) > MAX_POINT_SECRET_LENGTH or not secret.isprintable() or " " in secret:
        raise InvalidInput(
            f"secret must be at most {MAX_POINT_SECRET_LENGTH} printable characters, no spaces"
        )
    return secret


def check_ssid(ssid: str) -> str:
    """Return `ssid` if a router can broadcast it (1-32 UTF-8 octets, printable), else raise."""
    if not ssid or not ssid.strip():
        raise InvalidInput("SSID must not be empty")
    if len(ssid.encode("utf-8")) > MAX_SSID_BYTES:
        raise InvalidInput(f"SSID must be at most {MAX_SSID_BYTES} octets in UTF-8: {ssid!r}")
    if not ssid.isprintable():
        raise InvalidInput(f"SSID must be printable characters: {ssid!r}")
    return ssid


def point_ssid(point: Point) -> str:
    """Return the SSID the point broadcasts: its own, else its name cut to 32 UTF-8 octets."""
    if point.ssid:
        return point.ssid
    name = " ".join(point.name.split())
    # Cut on a character boundary: a split multi-octet character would show as garbage.
    return name.encode("utf-8")[:MAX_SSID_BYTES].decode("utf-8", "ignore").rstrip()


def check_address(value: str) -> str:
    """Return the normalised IP address in `value`, else raise InvalidInput."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise InvalidInput(f"not an IP address: {value!r}") from None


async def add_point(session: AsyncSession, *, new: NewPoint) -> Point:
    """Create a point, generating its RADIUS (and UAM) secret when none is given."""
    name = new.name.strip()
    if not name:
        raise InvalidInput("name must not be empty")
    if not _NAS_ID.fullmatch(new.nas_id):
        raise InvalidInput(
            "NAS-Identifier must be 1-64 letters, digits, '.', '_', ':' or '-' "
            f"and start with a letter or digit: {new.nas_id!r}"
        )
    repository = PointRepository(session)
    if await repository.get_by_nas_id(new.nas_id) is not None:
        raise Conflict(f"a point with NAS-Identifier {new.nas_id!r} exists already")
    point = Point(
        name=name,
        nas_id=new.nas_id,
        nas_type=new.nas_type.value,
        radius_secret=check_secret(new.secret) if new.secret else new_secret(),
        uam_secret=new_secret() if new.nas_type is not NasType.MIKROTIK else None,
        fixed_address=check_address(new.fixed_address) if new.fixed_address else None,
        coa_port=check_port(new.coa_port),
        ssid=check_ssid(new.ssid) if new.ssid is not None else None,
        require_message_authenticator=True,
        department=new.department,
        municipality=new.municipality,
        site_type=new.site_type,
        latitude=new.latitude,
        longitude=new.longitude,
        active=True,
    )
    return await repository.add(point)


async def get_point(session: AsyncSession, *, ref: str) -> Point:
    """Return the point named by numeric id or NAS-Identifier, else raise NotFound."""
    repository = PointRepository(session)
    point = await repository.get_by_nas_id(ref)
    if point is None and ref.isdigit():
        point = await repository.get(int(ref))
    if point is None:
        raise NotFound(f"no point with id or NAS-Identifier {ref!r}")
    return point


async def list_points(session: AsyncSession) -> Sequence[Point]:
    """Return every point, retired ones included."""
    return await PointRepository(session).list()


async def rotate_secret(session: AsyncSession, *, ref: str, secret: str | None = None) -> Point:
    """Give a point a new RADIUS secret (generated unless given) and return it."""
    point = await get_point(session, ref=ref)
    point.radius_secret = check_secret(secret) if secret else new_secret()
    point.updated_at = utcnow()
    await session.flush()
    return point


async def update_point(session: AsyncSession, *, ref: str, changes: PointChanges) -> Point:
    """Apply `changes` to a point and return it."""
    point = await get_point(session, ref=ref)
    if changes.name is not None:
        name = changes.name.strip()
        if not name or len(name) > 120:
            raise InvalidInput("name must be 1 to 120 characters")
        point.name = name
    if changes.coa_port is not None:
        point.coa_port = check_port(changes.coa_port)
    if changes.require_message_authenticator is not None:
        point.require_message_authenticator = changes.require_message_authenticator
    if changes.clear_fixed_address:
        point.fixed_address = None
    elif changes.fixed_address is not None:
        point.fixed_address = check_address(changes.fixed_address)
    if changes.clear_ssid:
        point.ssid = None
    elif changes.ssid is not None:
        point.ssid = check_ssid(changes.ssid)
    for name in ("rate_down_kbps", "rate_up_kbps"):
        value = getattr(changes, name)
        if value is not None:
            if value < 0:
                raise InvalidInput(f"{name} must not be negative")
            setattr(point, name, value)
    point.updated_at = utcnow()
    await session.flush()
    return point


def point_view(point: Point) -> PointView:
    """Return the policy's view of a point."""
    return PointView(
        id=point.id,
        nas_type=NasType(point.nas_type),
        active=point.active,
        rate_down_kbps=point.rate_down_kbps,
        rate_up_kbps=point.rate_up_kbps,
    )
