"""Two platform admins decide on the same submission at the same moment (approve against reject), each in its own
thread, application context, session and database connection, released together by a barrier. The
compare-and-set in the review service must let exactly one decision win: the listing ends in the winner's state,
the audit trail holds exactly one decision, and the hall index agrees with the outcome. Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from hall.extensions import db
from hall.models import AuditEvent, HallIndexEntry, Listing, ListingVersion, User
from hall.services.core.errors import Conflict
from hall.services.publishing import listing_review, listings
from tests.support.factories import InstitutionFactory, UserFactory
from tests.support.listing_data import achievement

ROUNDS = 10
OUTCOME = {"approve": "published", "reject": "rejected"}


def setup_people(app: Flask) -> tuple[int, int, int]:
    """An institution owner and two admins: their ids."""
    with app.app_context():
        org = InstitutionFactory()
        owner = UserFactory(institution=org, institution_role="owner")
        admins = [UserFactory(is_admin=True) for _ in range(2)]
        db.session.commit()
        return owner.id, admins[0].id, admins[1].id


def submitted_listing(app: Flask, owner_id: int) -> int:
    """A new achievement, submitted for its first review."""
    with app.app_context():
        owner = db.session.get(User, owner_id)
        listing = listings.create_draft(owner, "achievement", {k: v for k, v in achievement().items() if k != "kind"})
        listings.submit_listing(owner, listing.id)
        db.session.commit()
        return listing.id


def submitted_revision(app: Flask, owner_id: int, admin_id: int) -> tuple[int, int, int]:
    """A published listing with a submitted revision: (listing id, published version id, revision version id)."""
    listing_id = submitted_listing(app, owner_id)
    with app.app_context():
        listing_review.decide(db.session.get(User, admin_id), listing_id, "approve")
        db.session.commit()
        owner = db.session.get(User, owner_id)
        listing = listings.edit_listing(owner, listing_id, {"trl": 8, "title_en": "Revised"}, None)
        listings.submit_listing(owner, listing_id)
        db.session.commit()
        listing = db.session.get(Listing, listing_id)
        assert listing.has_pending_revision and listing.working_version.review_status == "submitted"
        return listing_id, listing.published_version_id, listing.working_version_id


def race(app: Flask, listing_id: int, contenders: list[tuple[int, str]]) -> list[tuple[str, str]]:
    """Run each (admin id, action) in its own thread behind a barrier; (action, 'won', 'conflict' or the error)."""
    barrier = threading.Barrier(len(contenders))
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def decide(admin_id: int, action: str) -> None:
        outcome = "did not finish"
        with app.app_context():
            try:
                admin = db.session.get(User, admin_id)
                db.session.commit()  # end the read so both threads start their decision together
                barrier.wait(timeout=10)
                listing_review.decide(admin, listing_id, action, "不符合发布要求" if action == "reject" else None)
                db.session.commit()
                outcome = "won"
            except Conflict:
                db.session.rollback()
                outcome = "conflict"
            except OperationalError as error:  # a locked or timed-out database is a bug here, not a loss
                db.session.rollback()
                outcome = f"OperationalError: {error.orig}"
            except Exception as error:  # noqa: BLE001 - reported through the assertion below
                db.session.rollback()
                outcome = f"{type(error).__name__}: {error}"
        with lock:
            outcomes.append((action, outcome))

    threads = [threading.Thread(target=decide, args=contender) for contender in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a decision hung"
    return outcomes


def decisions(listing_id: int, actions: tuple[str, ...]) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "listing", AuditEvent.object_id == str(listing_id),
        AuditEvent.action.in_(actions))))


def winner_of(outcomes: list[tuple[str, str]]) -> str:
    assert sorted(outcome for _, outcome in outcomes) == ["conflict", "won"], outcomes
    return next(action for action, outcome in outcomes if outcome == "won")


def test_approve_and_reject_race_on_a_submitted_listing(app: Flask, backend: str) -> None:
    owner_id, first_admin, second_admin = setup_people(app)
    winners: list[str] = []
    for round_number in range(ROUNDS):
        listing_id = submitted_listing(app, owner_id)
        order = [(first_admin, "approve"), (second_admin, "reject")]
        outcomes = race(app, listing_id, order if round_number % 2 else order[::-1])
        winner = winner_of(outcomes)
        winners.append(winner)
        with app.app_context():
            listing = db.session.get(Listing, listing_id)
            assert listing.status == OUTCOME[winner], (backend, outcomes, listing.status)
            assert listing.working_version.review_status == {"approve": "approved", "reject": "rejected"}[winner]
            assert decisions(listing_id, ("listing.approve", "listing.reject")) == [f"listing.{winner}"]
            entry = db.session.get(HallIndexEntry, listing_id)
            if winner == "approve":
                assert entry is not None and entry.version_id == listing.published_version_id
                assert listing.published_at is not None and listing.expires_at is not None
            else:
                assert entry is None and listing.published_version_id is None
                assert listing.status_reason == "不符合发布要求"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HallIndexEntry)) == winners.count("approve")


def test_approve_and_reject_race_on_a_revision(app: Flask, backend: str) -> None:
    owner_id, first_admin, second_admin = setup_people(app)
    for round_number in range(ROUNDS):
        listing_id, public_version, revision = submitted_revision(app, owner_id, first_admin)
        order = [(first_admin, "approve"), (second_admin, "reject")]
        outcomes = race(app, listing_id, order if round_number % 2 else order[::-1])
        winner = winner_of(outcomes)
        with app.app_context():
            listing = db.session.get(Listing, listing_id)
            assert listing.status == "published", (backend, outcomes)
            assert decisions(listing_id, ("listing.revision_approve", "listing.revision_reject")) == [
                f"listing.revision_{winner}"]
            entry = db.session.get(HallIndexEntry, listing_id)
            assert entry is not None
            version = db.session.get(ListingVersion, revision)
            old = db.session.get(ListingVersion, public_version)
            if winner == "approve":
                assert listing.published_version_id == revision == entry.version_id
                assert version.review_status == "approved" and old.review_status == "superseded"
                assert not listing.has_pending_revision
            else:
                assert listing.published_version_id == public_version == entry.version_id
                assert version.review_status == "rejected" and old.review_status == "approved"
                assert version.review_reason == "不符合发布要求"


def test_two_admins_approving_at_once_publish_once(app: Flask) -> None:
    owner_id, first_admin, second_admin = setup_people(app)
    for _ in range(3):
        listing_id = submitted_listing(app, owner_id)
        outcomes = race(app, listing_id, [(first_admin, "approve"), (second_admin, "approve")])
        assert sorted(outcome for _, outcome in outcomes) == ["conflict", "won"], outcomes
        with app.app_context():
            assert decisions(listing_id, ("listing.approve",)) == ["listing.approve"]
            assert db.session.get(Listing, listing_id).status == "published"
