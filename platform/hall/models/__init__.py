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
from hall.models.mail import OutboxMail

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuthSession",
    "ConsumedToken",
    "Institution",
    "Invitation",
    "OutboxMail",
    "User",
]
