"""The one state-machine primitive (architecture invariant 2): every machine — listings, their versions,
institutions, people, orders, payments, refunds — is a ``Machine`` (a transition table over one status column),
and every move goes through ``transition`` (or ``try_transition`` for providers that report late): it checks the
table, does the compare-and-set and writes the audit event with the from and to states."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, update

from hall.extensions import db
from hall.labels import state_word
from hall.services.core.audit import record_event
from hall.services.core.errors import Conflict

Table = dict[str, tuple[frozenset[str], str]]
# What a refused move names, in words of the current language ("Cannot reinstate an institution that is …"):
# each machine's object with its article, and each action as a verb.
_OBJECTS = {
    "listing": _l("a listing"), "listing_version": _l("a listing version"), "institution": _l("an institution"),
    "user": _l("a user"), "order": _l("an order"), "payment": _l("a payment"), "refund": _l("a refund"),
    "access_request": _l("an access request"),
    "demand": _l("a demand"), "demand_revision": _l("a demand revision"),
    "thread": _l("a thread"),
}
_ACTIONS = {
    "accept": _l("accept"), "approve": _l("approve"), "cancel": _l("cancel"), "close": _l("close"),
    "complete": _l("complete"),
    "deliver": _l("deliver"), "dispute": _l("dispute"), "expire": _l("expire"), "fail": _l("fail"),
    "pay": _l("pay"), "quote": _l("quote"), "refund": _l("refund"), "refund_reversed": _l("refund reversed"),
    "reinstate": _l("reinstate"), "reject": _l("reject"), "renew": _l("renew"),
    "request_changes": _l("request changes"), "resolve": _l("resolve"), "resubmit": _l("resubmit"),
    "return": _l("return"), "start_payment": _l("start payment"), "submit": _l("submit"), "succeed": _l("succeed"),
    "revoke": _l("revoke"),
    "supersede": _l("supersede"), "suspend": _l("suspend"), "verify": _l("verify"), "withdraw": _l("withdraw"),
}
# Machines whose states are labelled with a prefix in hall/labels.py ("pending" there means awaiting verification).
_LABEL_PREFIXES = {"payment": "payment_"}


def _state_words(machine_name: str, state: str) -> str:
    return state_word(_LABEL_PREFIXES.get(machine_name, "") + state)


@dataclass(frozen=True)
class Machine:
    """A state machine: ``table`` maps action -> (states it may start from, state it leads to) over ``column``.

    ``name`` is the audit object type and event prefix (``order.pay``); ``events`` renames an action's event where
    an older name is kept (``user.suspended``); ``reason_column`` stores the reason given for a move."""

    name: str
    table: Table
    column: str = "status"
    reason_column: str | None = None
    events: dict[str, str] = field(default_factory=dict)

    @property
    def states(self) -> frozenset[str]:
        """Every state the table names (where moves start or end)."""
        return frozenset(s for starts, end in self.table.values() for s in (*starts, end))

    def can(self, action: str, state: str) -> bool:
        """Whether the table allows ``action`` from ``state``."""
        return action in self.table and state in self.table[action][0]

    def event(self, action: str) -> str:
        """The audit event's name for ``action``."""
        return self.events.get(action, f"{self.name}.{action}")


def compare_and_set(obj: Any, column: str, from_state: Any, to_state: Any, *, conditions: tuple[Any, ...] = (),
                    **values: Any) -> None:
    """Move ``obj`` from ``from_state`` to ``to_state`` only if the row is still in ``from_state``.

    Runs ``UPDATE … SET column=:to WHERE id=:id AND column=:from [AND conditions]`` and raises ``Conflict`` when
    another transaction moved the row first; the in-session object is refreshed to what was written.
    """
    model = type(obj)
    db.session.flush()
    result = cast(CursorResult[Any], db.session.execute(  # an UPDATE's result has a rowcount
        update(model)
        .where(model.id == obj.id, getattr(model, column) == from_state, *conditions)
        .values({column: to_state, **values})
        .execution_options(synchronize_session=False)
    ))
    if result.rowcount != 1:
        db.session.expire(obj)
        raise Conflict(_("This was changed meanwhile and is no longer “%(state)s”; reload and try again.",
                         state=_state_words(model.__name__.lower(), str(from_state))))
    db.session.expire(obj)


def transition(machine: Machine, obj: Any, action: str, *, actor: Any = None, reason: str | None = None,
               details: dict[str, Any] | None = None, conditions: tuple[Any, ...] = (), **values: Any) -> str:
    """Apply ``action`` to ``obj``: Conflict when the table does not allow it from where ``obj`` stands or another
    transaction moved it first; otherwise the compare-and-set and its audit event. Returns the state it left."""
    from_state = getattr(obj, machine.column)
    if not machine.can(action, from_state):
        noun = machine.name.replace("_", " ")
        thing = _OBJECTS.get(machine.name) or ("an " if noun[0] in "aeiou" else "a ") + noun
        verb = _ACTIONS.get(action) or action.replace("_", " ")
        raise Conflict(_("Cannot %(action)s %(thing)s that is “%(state)s”.", action=verb, thing=thing,
                         state=_state_words(machine.name, from_state)))
    to_state = machine.table[action][1]
    if machine.reason_column is not None:
        values[machine.reason_column] = reason
    compare_and_set(obj, machine.column, from_state, to_state, conditions=conditions, **values)
    record_event(machine.event(action), machine.name, obj.id, actor=actor, from_state=from_state, to_state=to_state,
                 reason=reason, details=details)
    return from_state


def try_transition(machine: Machine, obj: Any, action: str, **kwargs: Any) -> bool:
    """``transition`` for reports that may come late or out of order (payment providers): False, changing
    nothing, instead of Conflict."""
    try:
        transition(machine, obj, action, **kwargs)
    except Conflict:
        return False
    return True
