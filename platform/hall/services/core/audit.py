"""The audit trail: record events in a hash chain, sign checkpoints of its head, and verify the chain.

The chain shows a changed or removed event by a broken link, but not the removal of the newest events: what is
left still links up. Checkpoints close that gap. Each states the chain's length and its last event's id and
hash, HMAC-signed with a key that is not in the database (AUDIT_CHECKPOINT_KEY, by default derived from the
SECRET_KEY). They are kept in ``audit_checkpoints`` (append-only like the events) and can be exported as JSON
lines to a file kept elsewhere; ``verify_chain`` compares the chain with every checkpoint it is given.

When checkpoints are taken: by ``flask hall audit-checkpoint`` (meant for cron; it verifies the whole chain
first and refuses to sign a broken one), and by ``record_event`` itself in the transaction that appends the
AUDIT_CHECKPOINT_EVERY-th event since the latest checkpoint (unverified: it signs the head it extends).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, text

from hall.context import current_request_id
from hall.extensions import db
from hall.models import AuditCheckpoint, AuditEvent, User
from hall.models.types import utcnow
from hall.services.core.errors import Conflict

GENESIS_HASH = "0" * 64
# Serialises appends on PostgreSQL so that two transactions never chain onto the same predecessor.
# (SQLite writers already hold the database's write lock from BEGIN IMMEDIATE.)
_CHAIN_LOCK_KEY = 0x4A11A0D1


def event_digest(event: AuditEvent) -> str:
    """SHA-256 over the previous hash and the event's fields in canonical JSON."""
    payload = {
        "occurred_at": event.occurred_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "request_id": event.request_id,
        "details": event.details,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((event.prev_hash + canonical).encode("utf-8")).hexdigest()


def lock_chain() -> None:
    """Take the audit chain's lock now (PostgreSQL; a no-op on SQLite, whose writers are already serialised).

    Every transaction that records an event takes this lock; a service that will also lock rows (a listing's
    stock, an order's refund counter) takes it first, so all writers lock in one order and cannot deadlock.
    """
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


def record_event(
    action: str,
    object_type: str,
    object_id: Any,
    *,
    actor: User | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain in the current transaction and flush it."""
    session = db.session
    lock_chain()
    session.flush()
    last_hash = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        request_id=current_request_id(),
        details=json.dumps(details, sort_keys=True, ensure_ascii=False) if details else None,
        prev_hash=last_hash or GENESIS_HASH,
    )
    event.hash = event_digest(event)
    session.add(event)
    session.flush()
    _checkpoint_periodically(event)
    return event


# --- checkpoints --------------------------------------------------------------------------------------------

CHECKPOINT_FORMAT = 1
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def checkpoint_key() -> bytes:
    """The key checkpoints are signed with: AUDIT_CHECKPOINT_KEY, else one derived from the SECRET_KEY."""
    configured = current_app.config.get("AUDIT_CHECKPOINT_KEY")
    if configured:
        return str(configured).encode("utf-8")
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(secret, b"hall audit checkpoint key v1", hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    """A fingerprint naming the key (not revealing it), so a checkpoint signed with another key is recognised."""
    return hashlib.sha256(b"hall audit checkpoint key id\0" + key).hexdigest()[:16]


@dataclass(frozen=True)
class CheckpointClaim:
    """What one checkpoint states, wherever it is kept (a row of ``audit_checkpoints`` or an exported line)."""

    event_count: int
    last_event_id: int | None
    last_event_hash: str
    created_at: str  # UTC, as signed: 2026-12-01T03:15:00.000000Z
    key_id: str
    signature: str
    source: str  # where it came from, for messages: "checkpoint #12", "head.jsonl line 3"
    checkpoint_id: int | None = None

    def signed_payload(self) -> bytes:
        """The canonical bytes the signature covers."""
        body = {"format": CHECKPOINT_FORMAT, "event_count": self.event_count, "last_event_id": self.last_event_id,
                "last_event_hash": self.last_event_hash, "created_at": self.created_at, "key_id": self.key_id}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def signature_matches(self, key: bytes) -> bool:
        """True when the signature was made over this content with ``key``."""
        expected = hmac.new(key, self.signed_payload(), hashlib.sha256).hexdigest().encode("ascii")
        return hmac.compare_digest(expected, self.signature.encode("utf-8"))

    def describe(self) -> str:
        """A short human description: source, time and what it covers."""
        head = f"up to event {self.last_event_id}" if self.last_event_id is not None else "an empty chain"
        return f"{self.source} of {self.created_at} ({self.event_count} events, {head})"

    def to_json_line(self) -> str:
        """One line of an exported checkpoint file."""
        return json.dumps({"format": CHECKPOINT_FORMAT, "checkpoint_id": self.checkpoint_id,
                           "created_at": self.created_at, "event_count": self.event_count,
                           "last_event_id": self.last_event_id, "last_event_hash": self.last_event_hash,
                           "key_id": self.key_id, "signature": self.signature}, sort_keys=True)

    @classmethod
    def from_row(cls, row: AuditCheckpoint) -> CheckpointClaim:
        """The claim stored in a table row."""
        return cls(event_count=row.event_count, last_event_id=row.last_event_id,
                   last_event_hash=row.last_event_hash, created_at=_format_time(row.created_at), key_id=row.key_id,
                   signature=row.signature, source=f"checkpoint #{row.id}", checkpoint_id=row.id)


def _format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(_TIME_FORMAT)


def _signed_checkpoint(event_count: int, last_event_id: int | None, last_event_hash: str) -> AuditCheckpoint:
    """Add a checkpoint row for the given head, signed with the current key, and flush it."""
    key = checkpoint_key()
    row = AuditCheckpoint(created_at=utcnow(), event_count=event_count, last_event_id=last_event_id,
                          last_event_hash=last_event_hash, key_id=key_id(key), signature="")
    claim = CheckpointClaim(event_count=event_count, last_event_id=last_event_id, last_event_hash=last_event_hash,
                            created_at=_format_time(row.created_at), key_id=row.key_id, signature="", source="new")
    row.signature = hmac.new(key, claim.signed_payload(), hashlib.sha256).hexdigest()
    db.session.add(row)
    db.session.flush()
    return row


def _checkpoint_periodically(event: AuditEvent) -> None:
    """Sign the head when ``event`` is the AUDIT_CHECKPOINT_EVERY-th since the latest checkpoint (0: never)."""
    every = int(current_app.config.get("AUDIT_CHECKPOINT_EVERY") or 0)
    if every <= 0:
        return
    since = db.session.scalar(select(AuditCheckpoint.last_event_id).order_by(AuditCheckpoint.id.desc()).limit(1))
    if event.id - (since or 0) < every:
        return
    count = db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    _signed_checkpoint(count, event.id, event.hash)


def take_checkpoint(verified: ChainVerdict) -> AuditCheckpoint:
    """Sign the chain's current head, given the verdict of a full walk (``verify_chain``) that found it intact.

    Under the chain's lock, the events appended since that walk are checked to extend it (and the walk's last
    event to be still there, unchanged), so the checkpoint vouches only for a verified chain. Flushes.
    """
    if not verified.intact:
        raise Conflict(_("The audit chain is not intact (%(problem)s); no checkpoint is signed over it.",
                         problem=verified.problem))
    lock_chain()
    db.session.flush()
    expected_prev, count, last_id = verified.head_hash, verified.events_checked, verified.last_event_id
    if last_id is not None:
        stored = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id == last_id))
        if stored != verified.head_hash:
            raise Conflict(_("Event %(id)s changed or vanished since the chain was verified; verify again.",
                             id=last_id))
    newer = select(AuditEvent).order_by(AuditEvent.id)
    if last_id is not None:
        newer = newer.where(AuditEvent.id > last_id)
    for event in db.session.scalars(newer):
        if event.prev_hash != expected_prev or event_digest(event) != event.hash:
            raise Conflict(_("Event %(id)s, appended since the chain was verified, does not extend it.",
                             id=event.id))
        expected_prev, count, last_id = event.hash, count + 1, event.id
    return _signed_checkpoint(count, last_id, expected_prev)


def stored_claims() -> list[CheckpointClaim]:
    """Every checkpoint kept in the database, oldest first."""
    return [CheckpointClaim.from_row(row) for row in db.session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id))]


class CheckpointFileError(ValueError):
    """An exported checkpoint file that cannot be read."""


def read_exported_claims(path: Path) -> list[CheckpointClaim]:
    """The checkpoints of an exported file (one JSON object per line, as ``to_json_line`` writes them)."""
    claims = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CheckpointFileError(f"{path}: cannot be read ({error})") from error
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            claim = CheckpointClaim(
                event_count=int(data["event_count"]),
                last_event_id=None if data["last_event_id"] is None else int(data["last_event_id"]),
                last_event_hash=str(data["last_event_hash"]), created_at=str(data["created_at"]),
                key_id=str(data["key_id"]), signature=str(data["signature"]),
                source=f"{path.name} line {number}", checkpoint_id=data.get("checkpoint_id"))
        except (ValueError, KeyError, TypeError) as error:
            raise CheckpointFileError(f"{path} line {number} is not a checkpoint ({error})") from error
        if data.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointFileError(f"{path} line {number}: unknown checkpoint format {data.get('format')!r}")
        claims.append(claim)
    return claims


def export_checkpoint(row: AuditCheckpoint, path: Path) -> str:
    """Append the checkpoint to ``path`` as one JSON line (created if missing) and sync it to disk."""
    line = CheckpointClaim.from_row(row).to_json_line()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return line


# --- verification ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainVerdict:
    """The result of checking the chain: how many events, and the first broken one if any.

    ``truncated`` marks a chain that is consistent in itself but shorter than, or different from, what a signed
    checkpoint recorded (the newest events were deleted, or the history was rewritten and re-hashed).
    """

    events_checked: int
    broken_event_id: int | None = None
    problem: str | None = None
    truncated: bool = False
    last_event_id: int | None = None
    head_hash: str = GENESIS_HASH
    checkpoints_matched: int = 0
    latest_checkpoint: CheckpointClaim | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def intact(self) -> bool:
        """True when every event links to its predecessor, hashes to its stored hash, and every checkpoint holds."""
        return self.problem is None


def _sort_claims(claims: Iterable[CheckpointClaim], key: bytes) -> tuple[list[CheckpointClaim], list[str],
                                                                          CheckpointClaim | None]:
    """(claims signed with ``key``, notes on the others, the first whose signature is forged)."""
    current, notes = key_id(key), []
    usable: list[CheckpointClaim] = []
    for claim in claims:
        if claim.key_id != current:
            notes.append(f"{claim.source} was signed with another key ({claim.key_id}) and cannot be checked.")
        elif not claim.signature_matches(key):
            return usable, notes, claim
        else:
            usable.append(claim)
    return usable, notes, None


def _events(batch_size: int) -> Generator[AuditEvent, None, None]:
    with db.session.execute(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch_size)
    ) as result:
        yield from result.scalars()


def verify_chain(batch_size: int = 1000, claims: Iterable[CheckpointClaim] | None = None,
                 key: bytes | None = None) -> ChainVerdict:
    """Walk the events in id order; name the first whose link or hash does not hold; then hold the chain against
    every checkpoint (those of the database unless ``claims`` are given): fewer events than one recorded, or its
    last event missing or with another hash, is a truncated or rewritten chain. A checkpoint signed with the
    current key but with a wrong signature is a forgery."""
    key = key if key is not None else checkpoint_key()
    usable, notes, forged = _sort_claims(stored_claims() if claims is None else claims, key)
    if forged is not None:
        return ChainVerdict(0, forged.last_event_id, f"{forged.source} has an invalid signature: it was forged or "
                            "altered (the signing key is not in the database)", notes=tuple(notes))
    expected_at: dict[int, list[CheckpointClaim]] = {}
    for claim in usable:
        if claim.last_event_id is not None:
            expected_at.setdefault(claim.last_event_id, []).append(claim)
    latest = max(usable, key=lambda c: (c.event_count, c.created_at), default=None)
    expected_prev, checked, last_id = GENESIS_HASH, 0, None
    events = _events(batch_size)
    try:
        for event in events:
            if event.prev_hash != expected_prev:
                return ChainVerdict(checked, event.id, "does not link to the event before it (a row was removed "
                                                       "or inserted out of order)", notes=tuple(notes))
            if event_digest(event) != event.hash:
                return ChainVerdict(checked, event.id, "its content does not match its hash (the row was altered)",
                                    notes=tuple(notes))
            expected_prev, last_id = event.hash, event.id
            checked += 1
            for claim in expected_at.pop(event.id, ()):
                if claim.last_event_hash != event.hash or claim.event_count != checked:
                    return ChainVerdict(checked, event.id, f"truncated or rewritten: {claim.describe()} signed "
                                        f"hash {claim.last_event_hash[:16]}… as event number {claim.event_count}, "
                                        f"but the chain holds hash {event.hash[:16]}… as event number {checked}",
                                        truncated=True, notes=tuple(notes))
    finally:
        events.close()
    missing = max((c for group in expected_at.values() for c in group), key=lambda c: c.event_count, default=None)
    if missing is not None:
        return ChainVerdict(checked, missing.last_event_id, f"truncated: {missing.describe()}, but the chain has "
                            f"{checked} events" + (f" and ends at event {last_id}" if last_id is not None else ""),
                            truncated=True, last_event_id=last_id, head_hash=expected_prev, notes=tuple(notes))
    return ChainVerdict(checked, last_event_id=last_id, head_hash=expected_prev, checkpoints_matched=len(usable),
                        latest_checkpoint=latest, notes=tuple(notes))
