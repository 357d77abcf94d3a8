"""All models, imported here so that metadata (and Alembic) sees every table."""
from hall.models.accounts import (
    ApiToken,
    AuthSession,
    ConsumedToken,
    Institution,
    Invitation,
    User,
)
from hall.models.audit import AuditCheckpoint, AuditEvent, ReadinessProbe
from hall.models.ledger import LedgerEntry
from hall.models.listings import HallIndexEntry, Listing, ListingAttachment, ListingVersion
from hall.models.mail import OutboxMail
from hall.models.orders import ExclusiveClaim, IdempotencyRecord, Order, Payment, ProviderEvent
from hall.models.refunds import Refund
from hall.models.taxonomy import Direction, IndustryField

__all__ = [
    "ApiToken",
    "AuditCheckpoint",
    "AuditEvent",
    "AuthSession",
    "ConsumedToken",
    "Direction",
    "ExclusiveClaim",
    "HallIndexEntry",
    "IdempotencyRecord",
    "IndustryField",
    "Institution",
    "Invitation",
    "LedgerEntry",
    "Listing",
    "ListingAttachment",
    "ListingVersion",
    "Order",
    "OutboxMail",
    "Payment",
    "ProviderEvent",
    "ReadinessProbe",
    "Refund",
    "User",
]
