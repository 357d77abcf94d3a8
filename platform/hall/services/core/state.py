"""The one state-machine primitive (architecture invariant 2): every machine — listings, their versions,
institutions, people, orders, payments, refunds — is a ``Machine`` (a transition table over one status column),
and every move goes through ``transition`` (or ``try_transition`` for providers that report late): it checks the
table, does the compare-and-set and writes the audit event with the from and to states."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, update

from hall.extensions import db
from hall.services.core.audit import lock_chain, record_event
from hall.services.core.errors import Conflict

Table = dict[str, tuple[frozenset[str], str]]


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
    lock_chain()  # a transition records an event: take the chain's lock before the row's (no deadlock)
    db.session.flush()
    result = cast(CursorResult[Any], db.session.execute(  # an UPDATE's result has a rowcount
        update(model)
        .where(model.id == obj.id, getattr(model, column) == from_state, *conditions)
        .values({column: to_state, **values})
        .execution_options(synchronize_session=False)
    ))
    if result.rowcount != 1:
        db.session.expire(obj)
        raise Conflict(f"{model.__name__} {obj.id} is no longer {from_state}; reload and try again.")
    db.session.expire(obj)


def transition(machine: Machine, obj: Any, action: str, *, actor: Any = None, reason: str | None = None,
               details: dict[str, Any] | None = None, conditions: tuple[Any, ...] = (), **values: Any) -> str:
    """Apply ``action`` to ``obj``: Conflict when the table does not allow it from where ``obj`` stands or another
    transaction moved it first; otherwise the compare-and-set and its audit event. Returns the state it left."""
    from_state = getattr(obj, machine.column)
    if not machine.can(action, from_state):
        noun = machine.name.replace("_", " ")
        article = "an" if noun[0] in "aeiou" else "a"
        raise Conflict(f"Cannot {action.replace('_', ' ')} {article} {noun} that is {from_state}.")
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
