"""The audit trail's hashes: an event's digest and the root over every stream's head."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import timezone

from hall.models import AuditEvent

GENESIS_HASH = "0" * 64
# The events from before migration 0017 (stream NULL) count as one stream of this name in the heads; object
# streams always contain a colon, so it cannot clash with one.
LEGACY_STREAM = "(legacy)"


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
