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
from hall.models.data_rooms import AccessRequest, DownloadLog, ListingDataRoom, NdaText
from hall.models.demands import Demand, DemandIndexEntry, DemandIndexField
from hall.models.inbox import Notification, NotificationPreference
from hall.models.ledger import LedgerEntry
from hall.models.listings import (
    HallFacetCount,
    HallIndexEntry,
    HallState,
    HallText,
    Listing,
    ListingAttachment,
    ListingVersion,
)
from hall.models.mail import OutboxMail
from hall.models.matching import MatchFeedback
from hall.models.orders import ExclusiveClaim, IdempotencyRecord, Order, Payment, ProviderEvent
from hall.models.refunds import Refund
from hall.models.taxonomy import Direction, IndustryField
from hall.models.threads import Thread, ThreadMessage, ThreadRead

# Policy workflows (issue 13): each module's tables register with the metadata on import.
from hall.models import contracts, evaluations, exhibitions, insurance  # noqa: E402,F401  isort: skip

__all__ = [
    "AccessRequest",
    "ApiToken",
    "AuditCheckpoint",
    "AuditEvent",
    "AuthSession",
    "ConsumedToken",
    "Demand",
    "DemandIndexEntry",
    "DemandIndexField",
    "Direction",
    "DownloadLog",
    "ExclusiveClaim",
    "HallFacetCount",
    "HallIndexEntry",
    "HallState",
    "HallText",
    "IdempotencyRecord",
    "IndustryField",
    "Institution",
    "Invitation",
    "LedgerEntry",
    "Listing",
    "ListingAttachment",
    "ListingDataRoom",
    "ListingVersion",
    "MatchFeedback",
    "NdaText",
    "Notification",
    "NotificationPreference",
    "Order",
    "OutboxMail",
    "Payment",
    "ProviderEvent",
    "ReadinessProbe",
    "Refund",
    "Thread",
    "ThreadMessage",
    "ThreadRead",
    "User",
]
