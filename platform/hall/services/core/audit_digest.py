"""The audit trail's hashes and claims: an event's digest, the root over every stream's head, and what a
signed checkpoint states."""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from hall.models import AuditCheckpoint, AuditEvent

GENESIS_HASH = "0" * 64
# The events from before migration 0018 (stream NULL) count as one stream of this name in the heads; object
# streams always contain a colon, so it cannot clash with one.
LEGACY_STREAM = "(legacy)"
CHECKPOINT_FORMATS = (1, 2)
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def event_digest(event: AuditEvent) -> str:
    """SHA-256 over the previous hash and the event's fields in canonical JSON (with its stream and seq, for an
    event of a stream; a legacy event hashes as it always did)."""
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
    if event.seq is not None:
        payload["stream"] = event.stream
        payload["seq"] = event.seq
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((event.prev_hash + canonical).encode("utf-8")).hexdigest()


def heads_root(heads: Mapping[str, tuple[int, str]]) -> str:
    """SHA-256 over the heads (stream → (seq, hash)) as sorted lines ``stream\\tseq\\thash\\n``."""
    digest = hashlib.sha256(b"hall audit heads v1\n")
    for stream in sorted(heads):
        seq, head_hash = heads[stream]
        digest.update(f"{stream}\t{seq}\t{head_hash}\n".encode())
    return digest.hexdigest()


def format_time(moment: datetime) -> str:
    """A moment in UTC as checkpoints sign it: 2026-12-01T03:15:00.000000Z."""
    return moment.astimezone(timezone.utc).strftime(_TIME_FORMAT)


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
    format: int = 2
    root_hash: str | None = None
    stream_count: int | None = None

    def signed_payload(self) -> bytes:
        """The canonical bytes the signature covers."""
        body: dict[str, object] = {
            "format": self.format, "event_count": self.event_count, "last_event_id": self.last_event_id,
            "last_event_hash": self.last_event_hash, "created_at": self.created_at, "key_id": self.key_id}
        if self.format >= 2:
            body.update(root_hash=self.root_hash, stream_count=self.stream_count)
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def signature_matches(self, key: bytes) -> bool:
        """True when the signature was made over this content with ``key``."""
        expected = hmac.new(key, self.signed_payload(), hashlib.sha256).hexdigest().encode("ascii")
        return hmac.compare_digest(expected, self.signature.encode("utf-8"))

    def describe(self) -> str:
        """A short human description: source, time and what it covers."""
        head = f"up to event {self.last_event_id}" if self.last_event_id is not None else "an empty trail"
        streams = f" in {self.stream_count} streams" if self.stream_count is not None else ""
        return f"{self.source} of {self.created_at} ({self.event_count} events{streams}, {head})"

    def to_json_line(self) -> str:
        """One line of an exported checkpoint file."""
        body: dict[str, object] = {
            "format": self.format, "checkpoint_id": self.checkpoint_id, "created_at": self.created_at,
            "event_count": self.event_count, "last_event_id": self.last_event_id,
            "last_event_hash": self.last_event_hash, "key_id": self.key_id, "signature": self.signature}
        if self.format >= 2:
            body.update(root_hash=self.root_hash, stream_count=self.stream_count)
        return json.dumps(body, sort_keys=True)

    @classmethod
    def from_row(cls, row: AuditCheckpoint) -> CheckpointClaim:
        """The claim stored in a table row."""
        return cls(event_count=row.event_count, last_event_id=row.last_event_id,
                   last_event_hash=row.last_event_hash, created_at=format_time(row.created_at),
                   key_id=row.key_id,
                   signature=row.signature, source=f"checkpoint #{row.id}", checkpoint_id=row.id,
                   format=row.format or 1, root_hash=row.root_hash, stream_count=row.stream_count)


