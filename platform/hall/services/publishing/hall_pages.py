"""Read models for the public web pages of the hall that the search and detail services do not give: the names of
the institutions on a page of results, and everything a sitemap lists.

Every query here applies the hall's visibility rule (``hall.public_listing_conditions`` for listings; for
institutions ``public_institution_conditions``, the SQL form of ``hall.institution_is_public``), so a page built
from it shows nothing the hall's own views would refuse.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select

from hall.extensions import db
from hall.models import Institution, Listing
from hall.services.publishing.hall import public_listing_conditions

# A sitemap file holds at most 50,000 addresses (sitemaps.org); the listings take what the institutions leave.
SITEMAP_MAX_URLS = 50_000


@dataclass(frozen=True)
class SitemapEntries:
    """The public listings and institutions a sitemap names: (id, last modified) pairs, newest first."""

    listings: list[tuple[int, datetime | None]]
    institutions: list[tuple[int, datetime | None]]


def public_institution_conditions() -> list[ColumnElement[bool]]:
    """``hall.institution_is_public`` as SQL conditions on ``institutions``: verified ones only."""
    return [Institution.verification_status == "verified"]


def institution_names(ids: Iterable[int]) -> dict[int, Institution]:
    """The public institutions among ``ids`` by id (one query), to name the publisher of each result."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = db.session.scalars(select(Institution).where(Institution.id.in_(wanted),
                                                        *public_institution_conditions()))
    return {org.id: org for org in rows}


def sitemap_entries(limit: int = SITEMAP_MAX_URLS) -> SitemapEntries:
    """Every public institution and public listing (at most ``limit`` addresses together), for the sitemap."""
    institutions = [(row.id, row.updated_at) for row in db.session.execute(
        select(Institution.id, Institution.updated_at).where(*public_institution_conditions())
        .order_by(Institution.id).limit(limit))]
    room = max(0, limit - len(institutions))
    listings: list[Any] = list(db.session.execute(
        select(Listing.id, Listing.published_at, Listing.updated_at).where(*public_listing_conditions())
        .order_by(Listing.published_at.desc(), Listing.id.desc()).limit(room))) if room else []
    return SitemapEntries(
        listings=[(row.id, max(filter(None, (row.published_at, row.updated_at)), default=None)) for row in listings],
        institutions=institutions)
