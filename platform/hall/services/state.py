"""Compare-and-set transitions shared by every state machine (architecture invariant 2)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import update

from hall.extensions import db
from hall.services.audit import lock_chain
from hall.services.errors import Conflict


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
