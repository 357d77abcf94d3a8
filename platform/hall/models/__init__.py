"""All models, imported here so that metadata (and Alembic) sees every table."""
from hall.models.accounts import (
    ApiToken,
    AuthSession,
    ConsumedToken,
    Institution,
    Invitation,
    User,
)
from hall.models.audit import AuditEvent
from hall.models.listings import HallIndexEntry, Listing, ListingAttachment, ListingVersion
from hall.models.mail import OutboxMail
from hall.models.taxonomy import Direction, IndustryField

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuthSession",
    "ConsumedToken",
    "Direction",
    "HallIndexEntry",
    "IndustryField",
    "Institution",
    "Invitation",
    "Listing",
    "ListingAttachment",
    "ListingVersion",
    "OutboxMail",
    "User",
]
