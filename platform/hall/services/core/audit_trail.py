"""Checkpoints of the audit trail and its verification (see ``hall.services.core.audit`` for the streams).

A checkpoint (format 2) states, up to an event id H: how many events have an id ≤ H, event H's hash, and the
root over every stream's head among them (the legacy chain counting as one stream), HMAC-signed with a key that
is not in the database (AUDIT_CHECKPOINT_KEY, by default derived from the SECRET_KEY). Checkpoints are kept in
``audit_checkpoints`` (append-only like the events) and can be exported as JSON lines to a file kept elsewhere.
Format 1 checkpoints, from before the streams, state the head of the legacy chain and are held against it.

Taken by ``flask hall audit-checkpoint`` only (cron): a root over all heads is a walk of the trail, too costly
for the transaction that records an event, and that transaction cannot know which lower ids are still in flight.
The command picks H = the highest id, waits (PostgreSQL) until every transaction that began before it has ended,
so that no event with an id ≤ H can still appear, walks and verifies the trail up to H, and signs what it found.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Generator, Iterable
from dataclasses import replace
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, text

from hall.extensions import db
from hall.models import AuditCheckpoint, AuditEvent
from hall.models.types import utcnow
from hall.services.core.audit_digest import (
    CHECKPOINT_FORMATS,
    GENESIS_HASH,
    LEGACY_STREAM,
    CheckpointClaim,
    event_digest,
    format_time,
    heads_root,
)
from hall.services.core.audit_walk import ChainVerdict, Walk
from hall.services.core.errors import Conflict

SETTLE_SECONDS = 10.0  # how long a checkpoint waits for older transactions to end


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


def _signed_checkpoint(verdict: ChainVerdict) -> AuditCheckpoint:
    """Add a format 2 checkpoint row of the verified trail ``verdict`` walked, signed with the current key; flush."""
    key = checkpoint_key()
    row = AuditCheckpoint(created_at=utcnow(), event_count=verdict.events_checked,
                          last_event_id=verdict.last_event_id, last_event_hash=verdict.head_hash, format=2,
                          root_hash=verdict.root_hash, stream_count=verdict.stream_count, key_id=key_id(key),
                          signature="")
    claim = CheckpointClaim(event_count=row.event_count, last_event_id=row.last_event_id,
                            last_event_hash=row.last_event_hash, created_at=format_time(row.created_at),
                            key_id=row.key_id, signature="", source="new", root_hash=row.root_hash,
                            stream_count=row.stream_count)
    row.signature = hmac.new(key, claim.signed_payload(), hashlib.sha256).hexdigest()
    db.session.add(row)
    db.session.flush()
    return row


def settled_horizon(wait: float = SETTLE_SECONDS) -> int | None:
    """The highest event id, once no event with a lower id can still appear: on PostgreSQL, after every other
    transaction that began before it was read has ended (an id is drawn inside its transaction). Conflict when
    one stays open longer than ``wait`` seconds. SQLite commits writers one at a time, in id order."""
    horizon = db.session.scalar(select(func.max(AuditEvent.id)))
    if db.session.get_bind().dialect.name != "postgresql":
        return horizon
    since = db.session.scalar(text("SELECT clock_timestamp()"))
    older = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND xact_start < :since")
    give_up = time.monotonic() + wait
    while db.session.scalar(older, {"since": since}):
        if time.monotonic() > give_up:
            raise Conflict(_("Transactions older than the checkpoint are still open; try again."))
        time.sleep(0.05)
    return horizon


def verify_for_checkpoint() -> ChainVerdict:
    """Walk and verify the trail up to the settled horizon (``settled_horizon``): a verdict a checkpoint may sign.
    Run it in a read-only transaction (on SQLite the walk must not hold the write lock)."""
    horizon = settled_horizon()
    return replace(verify_chain(upto=horizon if horizon is not None else 0), settled=True)


def take_checkpoint(verified: ChainVerdict) -> AuditCheckpoint:
    """Sign what a walk found intact: ``verified`` from ``verify_for_checkpoint``, or else (a plain
    ``verify_chain`` verdict) a walk up to the settled horizon made now. Conflict if the trail is not intact.
    Flushes the new checkpoint row."""
    for verdict in (verified, None if verified.settled else verify_for_checkpoint()):
        if verdict is not None and not verdict.intact:
            raise Conflict(_("The audit chain is not intact (%(problem)s); no checkpoint is signed over it.",
                             problem=verdict.problem))
        if verdict is not None and verdict.settled:
            return _signed_checkpoint(verdict)
    raise AssertionError("unreachable: verify_for_checkpoint returns a settled verdict")


def stored_claims() -> list[CheckpointClaim]:
    """Every checkpoint kept in the database, oldest first."""
    return [CheckpointClaim.from_row(row) for row in db.session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id))]


class CheckpointFileError(ValueError):
    """An exported checkpoint file that cannot be read."""


def _claim_from_line(data: object, source: str) -> CheckpointClaim:
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    if data.get("format") not in CHECKPOINT_FORMATS:
        raise CheckpointFileError(f"{source}: unknown checkpoint format {data.get('format')!r}")
    v2 = data["format"] >= 2
    return CheckpointClaim(
        event_count=int(data["event_count"]),
        last_event_id=None if data["last_event_id"] is None else int(data["last_event_id"]),
        last_event_hash=str(data["last_event_hash"]), created_at=str(data["created_at"]),
        key_id=str(data["key_id"]), signature=str(data["signature"]), source=source,
        checkpoint_id=data.get("checkpoint_id"), format=int(data["format"]),
        root_hash=str(data["root_hash"]) if v2 else None, stream_count=int(data["stream_count"]) if v2 else None)


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
            claims.append(_claim_from_line(json.loads(line), f"{path.name} line {number}"))
        except (ValueError, KeyError, TypeError) as error:
            if isinstance(error, CheckpointFileError):
                raise CheckpointFileError(f"{path} line {number}: {error}") from error
            raise CheckpointFileError(f"{path} line {number} is not a checkpoint ({error})") from error
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


def _events(batch_size: int, upto: int | None) -> Generator[AuditEvent, None, None]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if upto is not None:
        query = query.where(AuditEvent.id <= upto)
    with db.session.execute(query.execution_options(yield_per=batch_size)) as result:
        yield from result.scalars()


def verify_chain(batch_size: int = 1000, claims: Iterable[CheckpointClaim] | None = None,
                 key: bytes | None = None, upto: int | None = None) -> ChainVerdict:
    """Walk the events in id order (up to ``upto``), checking each stream's links and every hash, and hold the
    trail against every checkpoint (those of the database unless ``claims`` are given) as of its last event id:
    fewer events, another root over the heads, or its last event missing or changed is a truncated or rewritten
    trail. A checkpoint signed with the current key but with a wrong signature is a forgery."""
    key = key if key is not None else checkpoint_key()
    usable, notes, forged = _sort_claims(stored_claims() if claims is None else claims, key)
    if forged is not None:
        return ChainVerdict(0, forged.last_event_id, f"{forged.source} has an invalid signature: it was forged or "
                            "altered (the signing key is not in the database)", notes=tuple(notes))
    walk = Walk(usable, tuple(notes))
    events = _events(batch_size, upto)
    try:
        for event in events:
            broken = walk.step(event)
            if broken is not None:
                return broken
    finally:
        events.close()
    return walk.finish()


__all__ = ["GENESIS_HASH", "LEGACY_STREAM", "ChainVerdict", "CheckpointClaim", "CheckpointFileError",
           "checkpoint_key", "event_digest", "export_checkpoint", "heads_root", "key_id", "read_exported_claims",
           "settled_horizon", "stored_claims", "take_checkpoint", "verify_chain", "verify_for_checkpoint"]
