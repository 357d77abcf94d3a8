"""Listings: achievements and first-of-kind products, their reviewed versions and attachments."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.extensions import Model
from hall.models.types import UtcDateTime, check_in, utcnow

LISTING_KINDS = ("achievement", "first_of_kind")
LISTING_STATUSES = ("draft", "submitted", "published", "changes_requested", "rejected", "withdrawn", "suspended",
                    "expired")
VERSION_STATUSES = ("draft", "submitted", "approved", "changes_requested", "rejected", "superseded")
DEAL_MODES = ("transfer", "exclusive_license", "sole_license", "non_exclusive_license", "equity", "joint_development",
              "technical_service", "purchase")
PRICE_MODES = ("fixed", "negotiable", "starting")
PRODUCT_KINDS = ("equipment", "material", "software")
RECOGNITION_LEVELS = ("international", "national", "provincial")
ATTACHMENT_ROLES = ("attachment", "cover")
TEXT_FIELDS = ("title", "summary", "description", "benefit", "scenarios")
LANGUAGES = ("zh", "en")


def deal_modes_mask(modes: list[str]) -> int:
    """The deal modes as a bit mask (one bit per mode), so they can be filtered and counted in SQL."""
    return sum(1 << DEAL_MODES.index(mode) for mode in set(modes))


class Listing(Model):
    """A listing's identity and lifecycle; its content lives in versions (the public one and the one being edited)."""

    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint(check_in("kind", LISTING_KINDS), name="kind"),
        CheckConstraint(check_in("status", LISTING_STATUSES), name="status"),
        Index("ix_listings_institution_status", "institution_id", "status"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Bumped on every change of content or state: the ETag and the admin console's stale-page check.
    lock_version: Mapped[int] = mapped_column(default=1)
    working_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("listing_versions.id", use_alter=True, name="fk_listings_working_version"))
    published_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("listing_versions.id", use_alter=True, name="fk_listings_published_version"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    # Units (or batches) of a first-of-kind product that can still be ordered: set from the approved version,
    # taken by orders with a conditional UPDATE (TXN-01), given back when an unpaid order ends.
    stock: Mapped[int | None] = mapped_column()

    working_version: Mapped[ListingVersion | None] = relationship(foreign_keys=[working_version_id],
                                                                  post_update=True)
    published_version: Mapped[ListingVersion | None] = relationship(foreign_keys=[published_version_id],
                                                                    post_update=True)
    institution = relationship("Institution")

    @property
    def has_pending_revision(self) -> bool:
        """True when a published listing has an edited version that is not public yet and not rejected."""
        return (self.published_version_id is not None and self.working_version is not None
                and self.working_version_id != self.published_version_id
                and self.working_version.review_status in ("draft", "submitted", "changes_requested"))


class ListingVersion(Model):
    """One reviewed-as-a-whole copy of a listing's content. The public sees the approved one."""

    __tablename__ = "listing_versions"
    __table_args__ = (
        CheckConstraint(check_in("review_status", VERSION_STATUSES), name="review_status"),
        CheckConstraint("trl IS NULL OR (trl BETWEEN 1 AND 9)", name="trl_range"),
        CheckConstraint("price_amount IS NULL OR price_amount >= 0", name="price_not_negative"),
        CheckConstraint("price_mode IS NULL OR " + check_in("price_mode", PRICE_MODES), name="price_mode"),
        CheckConstraint("product_kind IS NULL OR " + check_in("product_kind", PRODUCT_KINDS), name="product_kind"),
        CheckConstraint("recognition_level IS NULL OR " + check_in("recognition_level", RECOGNITION_LEVELS),
                        name="recognition_level"),
        Index("ix_listing_versions_listing_number", "listing_id", "number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    number: Mapped[int] = mapped_column(default=1)
    review_status: Mapped[str] = mapped_column(String(20), default="draft")
    review_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    title_zh: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(300))
    summary_zh: Mapped[str | None] = mapped_column(Text)
    summary_en: Mapped[str | None] = mapped_column(Text)
    description_zh: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    benefit_zh: Mapped[str | None] = mapped_column(Text)
    benefit_en: Mapped[str | None] = mapped_column(Text)
    scenarios_zh: Mapped[str | None] = mapped_column(Text)
    scenarios_en: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)

    direction_code: Mapped[str | None] = mapped_column(ForeignKey("industry_directions.code"))
    field_code: Mapped[str | None] = mapped_column(ForeignKey("industry_fields.code"))
    region_code: Mapped[str | None] = mapped_column(String(6))
    trl: Mapped[int | None] = mapped_column()
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip_assets: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    inventors: Mapped[list[str]] = mapped_column(JSON, default=list)
    deal_modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    price_mode: Mapped[str | None] = mapped_column(String(16))
    price_amount: Mapped[int | None] = mapped_column(BigInteger)  # minor units (fen for CNY)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    state_funded: Mapped[bool] = mapped_column(default=False)
    funding_source: Mapped[str | None] = mapped_column(String(300))

    # First-of-kind products (首台套 / 首批次 / 首版次); the two filterable facts are columns.
    product_kind: Mapped[str | None] = mapped_column(String(16))
    recognition_level: Mapped[str | None] = mapped_column(String(16))
    first_of_kind: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    attachments: Mapped[list[ListingAttachment]] = relationship(
        back_populates="version", order_by="ListingAttachment.id", cascade="all, delete-orphan")

    def text(self, name: str, lang: str) -> str | None:
        """One text field in one language (``name`` from TEXT_FIELDS, ``lang`` zh or en)."""
        return getattr(self, f"{name}_{lang}")


class ListingAttachment(Model):
    """A PDF or image of a version, stored under a generated name outside the static files (FILE-01)."""

    __tablename__ = "listing_attachments"
    __table_args__ = (CheckConstraint(check_in("role", ATTACHMENT_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("listing_versions.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="attachment")
    filename: Mapped[str] = mapped_column(String(200))
    storage_name: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Listed publicly (name, size, type) but downloadable only under an accepted NDA (hall.services.docking.data_rooms).
    confidential: Mapped[bool] = mapped_column(default=False, server_default=false())

    version: Mapped[ListingVersion] = relationship(back_populates="attachments")


class HallIndexEntry(Model):
    """A published listing as the public hall finds it: filter columns and segmented text for full-text search.

    A row exists exactly while the listing is published; it is written in the same transaction as the
    listing's state, so nothing unpublished can be found, counted or exported.
    """

    __tablename__ = "hall_index"
    __table_args__ = (
        Index("ix_hall_index_direction_field", "direction_code", "field_code"),
        Index("ix_hall_index_published_at", "published_at"),
        Index("ix_hall_index_price", "price_amount"),
        Index("ix_hall_index_institution", "institution_id"),
    )

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), primary_key=True, autoincrement=False)
    version_id: Mapped[int] = mapped_column(ForeignKey("listing_versions.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    kind: Mapped[str] = mapped_column(String(16))
    direction_code: Mapped[str | None] = mapped_column(String(40))
    field_code: Mapped[str | None] = mapped_column(String(60))
    region_code: Mapped[str | None] = mapped_column(String(6))
    trl: Mapped[int | None] = mapped_column()
    deal_modes_mask: Mapped[int] = mapped_column(default=0)
    price_mode: Mapped[str | None] = mapped_column(String(16))
    price_amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    state_funded: Mapped[bool] = mapped_column(default=False)
    product_kind: Mapped[str | None] = mapped_column(String(16))
    recognition_level: Mapped[str | None] = mapped_column(String(16))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    text: Mapped[HallText] = relationship(lazy="select", uselist=False, viewonly=True,
                                          primaryjoin="HallIndexEntry.listing_id == foreign(HallText.listing_id)")

    @property
    def text_tokens(self) -> str:
        """Every search token of the listing (title, keywords, body; not the character grams), space-separated."""
        text = self.text
        return "" if text is None else f"{text.title_tokens} {text.keyword_tokens} {text.body_tokens}"


class HallText(Model):
    """The searchable text of a listing in the hall index, apart from its filter and sort columns (``hall_index``)
    so that counts and sorts over many rows read narrow rows. Written and deleted with its ``hall_index`` row.

    Four weighted columns of words: the titles, the keywords, the body and the taxonomy's names of its direction
    and field; and the CJK character bigrams of all the text (for fragments and words segmented differently in
    context). The full-text index over them is made by hand (migration 0019): FTS5 ``hall_fts`` on SQLite; on
    PostgreSQL the generated ``search_vector`` (the words, weighted, for matching and ranking) and ``gram_vector``
    (the bigrams, without positions, for matching only), each with a GIN index. ``facet_tokens``: the listing's
    filter values as words (``hall.search.facet_terms``), which SQLite's FTS5 matches with the text (migration
    0022); empty on PostgreSQL, whose planner joins ``hall_index`` instead."""

    __tablename__ = "hall_text"

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), primary_key=True, autoincrement=False)
    title_tokens: Mapped[str] = mapped_column(Text, default="")
    keyword_tokens: Mapped[str] = mapped_column(Text, default="")
    body_tokens: Mapped[str] = mapped_column(Text, default="")
    taxonomy_tokens: Mapped[str] = mapped_column(Text, default="")
    gram_tokens: Mapped[str] = mapped_column(Text, default="")
    facet_tokens: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))


class HallState(Model):
    """The hall index's version: one row, its counter raised in the same transaction as any change to
    ``hall_index`` (``hall.search.hall_changed``), so a reader knows whether what it computed from the index still
    holds. ``token`` is random per database (made with the row, never by a migration: test databases are cloned
    from one template), so a counter from another database is never taken for this one's."""

    __tablename__ = "hall_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    token: Mapped[str] = mapped_column(String(32))


class HallFacetCount(Model):
    """How many listings of the hall index fall under a facet's value, kept in the same transaction as
    ``hall_index`` (``hall.search.facet_counts``), so the pages without text and with at most one facet filter
    read their counts instead of counting rows.

    ``scope_facet``/``scope_value``: the listings counted, ``('', '')`` for the whole hall or one facet's value
    (``('direction_code', 'energy')``); ``facet``/``value``: what is counted among them, ``('', '')`` for all of
    them (the scope's total). A count that fell to 0 stays as a row of 0 (the readers skip it)."""

    __tablename__ = "hall_facet_counts"

    scope_facet: Mapped[str] = mapped_column(String(24), primary_key=True)
    scope_value: Mapped[str] = mapped_column(String(60), primary_key=True)
    facet: Mapped[str] = mapped_column(String(24), primary_key=True)
    value: Mapped[str] = mapped_column(String(60), primary_key=True)
    listings: Mapped[int] = mapped_column(BigInteger, default=0)
