"""What an institution is told when the platform decides on one of its listings (inbox and mail, group "reviews").

The sentences differ for an achievement (成果) and a first-of-kind product (首台套产品); the decision is given as
the listing's new state in words of the reader's language.
"""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import get_locale

from hall.labels import state_word
from hall.library_messages import N_
from hall.models import Listing
from hall.services.core import inbox

# (kind, about a revision?) -> (title, body)
TEMPLATES: dict[tuple[str, bool], tuple[str, str]] = {
    ("achievement", False): (
        N_("Your achievement “%(title)s”: %(decision)s"),
        N_("The platform reviewed your achievement “%(title)s”. Decision: %(decision)s.\nReason: %(reason)s")),
    ("first_of_kind", False): (
        N_("Your product “%(title)s”: %(decision)s"),
        N_("The platform reviewed your product “%(title)s”. Decision: %(decision)s.\nReason: %(reason)s")),
    ("achievement", True): (
        N_("Revision of your achievement “%(title)s”: %(decision)s"),
        N_("The platform reviewed the revision of your achievement “%(title)s”. Decision: %(decision)s.\n"
           "Reason: %(reason)s")),
    ("first_of_kind", True): (
        N_("Revision of your product “%(title)s”: %(decision)s"),
        N_("The platform reviewed the revision of your product “%(title)s”. Decision: %(decision)s.\n"
           "Reason: %(reason)s")),
}
# decision -> the state it is shown as, and the event code
DECISIONS: dict[str, str] = {"approve": "approved", "request_changes": "changes_requested", "reject": "rejected",
                             "suspend": "suspended", "reinstate": "published"}
EVENTS: dict[str, str] = {"approve": "approved", "request_changes": "changes_requested", "reject": "rejected",
                          "suspend": "suspended", "reinstate": "reinstated"}


def _title(listing: Listing) -> Callable[[], str]:
    version = listing.working_version or listing.published_version

    def title() -> str:
        if version is None:
            return f"#{listing.id}"
        first, second = (version.title_en, version.title_zh) if str(get_locale()) == "en" \
            else (version.title_zh, version.title_en)
        return first or second or f"#{listing.id}"

    return title


def tell_decision(listing: Listing, action: str, reason: str | None, *, revision: bool = False) -> int:
    """Notify the listing's institution of a review decision (``action``: approve, request_changes, reject,
    suspend, reinstate); returns how many people were told."""
    title, body = TEMPLATES[(listing.kind, revision)]
    event = f"listing.{'revision_' if revision else ''}{EVENTS[action]}"
    state = DECISIONS[action]
    return inbox.notify(event, group="reviews", title=title, body=body, institution_id=listing.institution_id,
                        params={"title": _title(listing), "decision": lambda: state_word(state),
                                "reason": reason or "—"},
                        link=f"/workspace/listings/{listing.id}")
