"""Accounting sessions and the Disconnect-Requests sent to end them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from cautiva.models.base import Base, utcnow


class ByteCounters:
    """Octet counters with their gigawords (RFC 2869 sections 5.1 and 5.2) as byte totals."""

    input_octets: int
    output_octets: int
    input_gigawords: int
    output_gigawords: int

    @property
    def input_bytes(self) -> int:
        """Bytes received from the user, gigawords included."""
        return (self.input_gigawords << 32) + self.input_octets

    @property
    def output_bytes(self) -> int:
        """Bytes sent to the user, gigawords included."""
        return (self.output_gigawords << 32) + self.output_octets


class AccountingSession(ByteCounters, Base):
    """One router session as accounting reports it (RFC 2866), keyed per point."""

    __tablename__ = "sessions"
    __table_args__ = (
        UniqueConstraint("point_id", "acct_session_id", "username"),
        # Only open sessions are looked up by state (sweeps, Accounting-On). Indexing
        # updated_at or stopped_at in full would make every Interim-Update a non-HOT update
        # touching all indexes.
        Index(
            "ix_sessions_open",
            "point_id",
            postgresql_where=text("stopped_at IS NULL"),
            sqlite_where=text("stopped_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("points.id", ondelete="CASCADE"))
    grant_id: Mapped[int | None] = mapped_column(
        ForeignKey("grants.id", ondelete="SET NULL"), index=True
    )
    username: Mapped[str] = mapped_column(String(253))
    acct_session_id: Mapped[str] = mapped_column(String(253))
    mac: Mapped[str | None] = mapped_column(String(17))
    framed_ip: Mapped[str | None] = mapped_column(String(45))
    # Where the accounting came from: the address a Disconnect-Request goes back to.
    nas_address: Mapped[str | None] = mapped_column(String(45))
    started_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None]
    session_time: Mapped[int] = mapped_column(Integer, default=0)
    input_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    output_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    input_gigawords: Mapped[int] = mapped_column(Integer, default=0)
    output_gigawords: Mapped[int] = mapped_column(Integer, default=0)
    terminate_cause: Mapped[str | None] = mapped_column(String(40))
    interim_interval: Mapped[int | None] = mapped_column(Integer)


class Disconnect(Base):
    """A Disconnect-Request (RFC 5176) sent for a session, and how the router answered."""

    __tablename__ = "disconnects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(40))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    # "ack", "nak", "timeout" or "error"
    result: Mapped[str] = mapped_column(String(16), default="pending")
    error_cause: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
