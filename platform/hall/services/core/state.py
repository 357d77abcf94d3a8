"""Compare-and-set transitions shared by every state machine (architecture invariant 2)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import update

from hall.extensions import db
from hall.services.core.audit import lock_chain, record_event
from hall.services.core.errors import Conflict


def compare_and_set(obj: Any, column: str, from_state: Any, to_state: Any, *, conditions: tuple[Any, ...] = (),
                    **values: Any) -> None:
    """Move ``obj`` from ``from_state`` to ``to_state`` only if the row is still in ``from_state``.

    Runs ``UPDATE … SET column=:to WHERE id=:id AND column=:from [AND conditions]`` and raises ``Conflict`` when
    another transaction moved the row first; the in-session object is refreshed to what was written.
    """
    model = type(obj)
    lock_chain()  # a transition records an event: take the chain's lock before the row's (no deadlock)
    db.session.flush()
    result = db.session.execute(
        update(model)
        .where(model.id == obj.id, getattr(model, column) == from_state, *conditions)
        .values({column: to_state, **values})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.expire(obj)
        raise Conflict(f"{model.__name__} {obj.id} is no longer {from_state}; reload and try again.")
    db.session.expire(obj)


def transition_by_table(obj: Any, table: dict[str, tuple[frozenset[str], str]], action: str, *,
                        actor: Any = None, details: dict[str, Any] | None = None, **values: Any) -> bool:
    """Apply ``action`` of a machine whose ``table`` maps action -> (states it may start from, state it leads to)
    to ``obj.status``, as a compare-and-set with an audit event ``<table>.<action>`` from → to.

    Returns False, changing nothing, when the table does not allow the step from where the object stands or
    another transaction moved it first: providers report late and out of order, so these are not errors."""
    allowed_from, to_state = table[action]
    from_state = obj.status
    if from_state not in allowed_from:
        return False
    try:
        compare_and_set(obj, "status", from_state, to_state, **values)
    except Conflict:
        return False
    object_type = type(obj).__tablename__.removesuffix("s")
    record_event(f"{object_type}.{action}", object_type, obj.id, actor=actor, from_state=from_state,
                 to_state=to_state, details=details)
    return True
