"""Institutions (the tenants), the people in them, and how people prove who they are."""
from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.extensions import Model
from hall.models.types import UtcDateTime, check_in, utcnow

INSTITUTION_KINDS = ("research_institute", "university", "enterprise", "evaluator", "transfer_agency")
VERIFICATION_STATUSES = ("pending", "verified", "rejected", "suspended")
USER_STATUSES = ("active", "suspended")
ROLES = ("owner", "member")
LOCALES = ("zh_CN", "en")


class Institution(Model):
    """An organisation that publishes or buys: verified by a platform admin before it may publish or trade."""

    __tablename__ = "institutions"
    __table_args__ = (
        CheckConstraint(check_in("kind", INSTITUTION_KINDS), name="kind"),
        CheckConstraint(check_in("verification_status", VERIFICATION_STATUSES), name="verification_status"),
        CheckConstraint("length(credit_code) = 18", name="credit_code_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(300))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    region_code: Mapped[str] = mapped_column(String(6))
    address: Mapped[str | None] = mapped_column(String(300))
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    verification_status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    members: Mapped[list[User]] = relationship(back_populates="institution", order_by="User.id")

    @property
    def is_verified(self) -> bool:
        """True when the institution may publish and trade."""
        return self.verification_status == "verified"


class User(Model):
    """A person: signs in, belongs to at most one institution, may be a platform admin (granted by CLI only)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(check_in("status", USER_STATUSES), name="status"),
        CheckConstraint(check_in("locale", LOCALES), name="locale"),
        CheckConstraint("institution_role IS NULL OR " + check_in("institution_role", ROLES), name="role"),
        CheckConstraint("(institution_id IS NULL) = (institution_role IS NULL)", name="membership_complete"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(8), default="zh_CN")
    status: Mapped[str] = mapped_column(String(16), default="active")
    is_admin: Mapped[bool] = mapped_column(default=False)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"), index=True)
    institution_role: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    institution: Mapped[Institution | None] = relationship(back_populates="members")

    # Flask-Login protocol. ``get_id`` names the server-side session, not the user, so that ending the
    # session row ends the cookie (SESS-01).
    # Set per request by the session loader (not a column: an annotation here would ask the ORM to map it).
    current_session_key = cast("str | None", None)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        """The key of the session row this user object was loaded through."""
        return self.current_session_key

    @property
    def is_owner(self) -> bool:
        """True when the person owns their institution."""
        return self.institution_role == "owner"


class AuthSession(Model):
    """A signed-in browser session; the cookie carries the key, the row says whether it still counts."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(32))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship()


class ApiToken(Model):
    """A personal access token for API clients; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship()


class Invitation(Model):
    """An owner's invitation for an e-mail address to join the institution."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(check_in("role", ROLES), name="role"),
        Index("ix_invitations_institution_email", "institution_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16), default="member")
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    institution: Mapped[Institution] = relationship()

    @property
    def is_open(self) -> bool:
        """True while the invitation can still be accepted."""
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > utcnow()


class ConsumedToken(Model):
    """The id of a mailed one-time token once it has been used; the primary key makes reuse impossible."""

    __tablename__ = "consumed_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    consumed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
