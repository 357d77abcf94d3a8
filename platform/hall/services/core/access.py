"""Who may act: the access policy, written once, that every service applies before it reads or changes anything.

- ``require_admin``: platform admins only (403 otherwise).
- ``require_member``: a person of an institution, optionally a verified one (403 otherwise).
- ``forbid_own_institution``: an admin never decides or handles money for their own institution.
- ``scope_for``: what an actor may read, as a condition for queries (an institution's rows, or nothing).

Blueprints never decide tenancy: they pass the signed-in person to a service, which asks this module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import false, or_
from sqlalchemy.sql.elements import ColumnElement

from hall.models import Institution, User
from hall.services.core.errors import Forbidden


def require_admin(actor: User | None, doing: str = "do this") -> User:
    """The actor, if a platform admin; 403 "Only platform admins <doing>." otherwise (``doing`` is a phrase of the
    current language: callers pass it through gettext)."""
    if actor is None or not actor.is_admin:
        if doing == "do this":
            raise Forbidden(_("Only platform admins do this."))
        raise Forbidden(_("Only platform admins %(doing)s.", doing=doing))
    return actor


def require_member(actor: User, *, verified: bool = False, unverified_message: str | None = None) -> Institution:
    """The actor's institution; 403 when the actor belongs to none, or (``verified``) when it is not verified yet."""
    org = actor.institution
    if org is None:
        raise Forbidden(_("Join or register an institution first."))
    if verified and not org.is_verified:
        raise Forbidden(unverified_message or _("Your institution must be verified by the platform first."))
    return org


def forbid_own_institution(admin: User, *institution_ids: int | None, doing: str) -> None:
    """403 when the admin belongs to one of these institutions: "Admins do not <doing>; ask another admin."
    (``doing`` is a phrase of the current language: callers pass it through gettext)."""
    if admin.institution_id is not None and admin.institution_id in institution_ids:
        raise Forbidden(_("Admins do not %(doing)s; ask another admin.", doing=doing))


@dataclass(frozen=True)
class ReadScope:
    """The rows an actor may read: those of one institution, or none (a person who belongs to no institution)."""

    institution_id: int | None

    def owns(self, column: Any) -> ColumnElement[bool]:
        """A query condition: ``column`` (an institution id) is the actor's institution."""
        return column == self.institution_id if self.institution_id is not None else false()

    def either(self, *columns: Any) -> ColumnElement[bool]:
        """A query condition: one of ``columns`` (buyer, seller …) is the actor's institution."""
        if self.institution_id is None:
            return false()
        return or_(*(column == self.institution_id for column in columns))


def scope_for(actor: User) -> ReadScope:
    """What a signed-in person may read of institution-owned records (orders, transactions, listings)."""
    return ReadScope(actor.institution_id)
