"""One walk over the audit trail in id order: each stream's links and hashes, the legacy chain, and every
checkpoint held as of its last event id (``hall.services.core.audit_trail.verify_chain`` drives it)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from hall.models import AuditEvent
from hall.services.core.audit_digest import GENESIS_HASH, LEGACY_STREAM, CheckpointClaim, event_digest, heads_root


@dataclass(frozen=True)
class ChainVerdict:
    """The result of checking the trail: how many events, and the first broken one if any.

    ``truncated`` marks a trail consistent in itself but not what a signed checkpoint recorded (the newest events
    of a stream or a whole stream were deleted, or history was rewritten and re-hashed). ``last_event_id``,
    ``head_hash`` (that event's hash), ``root_hash`` and ``stream_count`` describe what the walk found.
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
    root_hash: str | None = None
    stream_count: int = 0
    settled: bool = False  # walked up to a settled horizon (audit_trail.verify_for_checkpoint): fit to sign

    @property
    def intact(self) -> bool:
        """True when every event links to its predecessor, hashes to its stored hash, and every checkpoint holds."""
        return self.problem is None


class Walk:
    """The state of a walk: every stream's head so far (the legacy chain as ``LEGACY_STREAM``), the count, the
    last event, and the checkpoints still to hold."""

    def __init__(self, claims: list[CheckpointClaim], notes: tuple[str, ...]) -> None:
        self.notes = notes
        self.claims = claims
        self.heads: dict[str, tuple[int, str]] = {}
        self.checked = 0
        self.last_id: int | None = None
        self.last_hash = GENESIS_HASH
        # format 2: held once the walk passes their last event id; format 1: at their legacy event
        self.pending = deque(sorted((c for c in claims if c.format >= 2), key=lambda c: c.last_event_id or 0))
        self.legacy_at: dict[int, list[CheckpointClaim]] = {}
        for claim in claims:
            if claim.format < 2 and claim.last_event_id is not None:
                self.legacy_at.setdefault(claim.last_event_id, []).append(claim)

    def _broken(self, event_id: int | None, problem: str, *, truncated: bool = False) -> ChainVerdict:
        return ChainVerdict(self.checked, event_id, problem, truncated=truncated, last_event_id=self.last_id,
                            head_hash=self.last_hash, notes=self.notes)

    def _hold(self, claim: CheckpointClaim) -> ChainVerdict | None:
        """Hold a format 2 checkpoint against the heads as of its last event (the walk stands right after it)."""
        root, streams = heads_root(self.heads), len(self.heads)
        found = (self.checked, self.last_id, self.last_hash, root)
        if found == (claim.event_count, claim.last_event_id, claim.last_event_hash, claim.root_hash):
            return None
        if self.checked < claim.event_count or self.last_id != claim.last_event_id:
            what = (f"{claim.event_count - self.checked} event(s) fewer" if self.checked < claim.event_count
                    else f"its last event {claim.last_event_id} is gone")
            if claim.stream_count is not None and streams < claim.stream_count:
                what += f", {claim.stream_count - streams} whole stream(s) removed"
            else:
                what += " (the newest events of a stream, or events in the middle, were deleted)"
        else:
            what = "the same number of events, but other stream heads: events were rewritten and re-hashed"
        return self._broken(claim.last_event_id, f"truncated or rewritten: {claim.describe()} signed root "
                            f"{(claim.root_hash or '')[:16]}…, but the trail up to there holds {self.checked} "
                            f"events in {streams} streams with root {root[:16]}…: {what}", truncated=True)

    def _hold_due(self, before: int | None) -> ChainVerdict | None:
        """Hold every pending checkpoint whose last event id is below ``before`` (None: all of them)."""
        while self.pending and (before is None or (self.pending[0].last_event_id or 0) < before):
            broken = self._hold(self.pending.popleft())
            if broken is not None:
                return broken
        return None

    def step(self, event: AuditEvent) -> ChainVerdict | None:
        """Check one event (the next in id order); a verdict when something is broken."""
        broken = self._hold_due(event.id)
        if broken is not None:
            return broken
        stream = str(event.stream) if event.seq is not None else LEGACY_STREAM
        seq, previous = self.heads.get(stream, (0, GENESIS_HASH))
        if event.seq is not None and event.seq != seq + 1:
            return self._broken(event.id, f"does not link to the event before it in stream {stream}: it is number "
                                f"{event.seq}, the stream holds {seq} before it (a row was removed)")
        if event.prev_hash != previous:
            where = f"in stream {stream}" if event.seq is not None else "in the legacy chain"
            return self._broken(event.id, f"does not link to the event before it {where} (a row was removed, "
                                "rewritten or inserted out of order)")
        if event_digest(event) != event.hash:
            return self._broken(event.id, "its content does not match its hash (the row was altered)")
        self.heads[stream] = (seq + 1, event.hash)
        self.checked += 1
        self.last_id, self.last_hash = event.id, event.hash
        for claim in self.legacy_at.pop(event.id, ()) if event.seq is None else ():
            if claim.last_event_hash != event.hash or claim.event_count != seq + 1:
                return self._broken(event.id, f"truncated or rewritten: {claim.describe()} signed hash "
                                    f"{claim.last_event_hash[:16]}… as event number {claim.event_count} of the "
                                    f"legacy chain, but it holds hash {event.hash[:16]}… as number {seq + 1}",
                                    truncated=True)
        return None

    def finish(self) -> ChainVerdict:
        """The verdict once every event was walked: the checkpoints still pending are held now (of those that do
        not hold, the one that recorded the most events is named)."""
        failures = [(claim.event_count, verdict) for claim in self.pending
                    if (verdict := self._hold(claim)) is not None]
        self.pending.clear()
        if failures:
            return max(failures, key=lambda failure: failure[0])[1]
        missing = max((c for group in self.legacy_at.values() for c in group), key=lambda c: c.event_count,
                      default=None)
        if missing is not None:
            legacy = self.heads.get(LEGACY_STREAM, (0, GENESIS_HASH))[0]
            return self._broken(missing.last_event_id, f"truncated: {missing.describe()}, but the legacy chain has "
                                f"{legacy} events", truncated=True)
        latest = max(self.claims, key=lambda c: (c.event_count, c.created_at), default=None)
        return ChainVerdict(self.checked, last_event_id=self.last_id, head_hash=self.last_hash,
                            checkpoints_matched=len(self.claims), latest_checkpoint=latest, notes=self.notes,
                            root_hash=heads_root(self.heads), stream_count=len(self.heads))
