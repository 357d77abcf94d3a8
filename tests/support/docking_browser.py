"""Seeding for the docking journey's browser test (tests/browser/test_docking_journey.py): the market of
tests/support/orders.py (``open_market``) whose fixed-price licence — a solid-state battery electrolyte at 500,000.00
yuan, field energy.storage, TRL 6, transfer or licences — gets a data room through the services, as its owner would
through the web: a confidential process file added in a revision the platform approves, and an NDA."""
from __future__ import annotations

import io
from dataclasses import dataclass

from flask import Flask

from hall.extensions import db
from hall.models import Institution, User
from hall.services.docking import data_room_files, data_rooms
from hall.services.publishing import attachments, listing_review, listings
from tests.support.data_rooms import SECRET
from tests.support.orders import open_market
from tests.support.trading import Parties

SECRET_NAME = "电解质工艺配方.pdf"
NDA_ZH = "保密协议：接收方不得向任何第三方披露电解质工艺配方，仅用于评估本项技术转让。"
NDA_EN = "Non-disclosure agreement: the electrolyte recipe is for evaluating this transfer only."


@dataclass(frozen=True)
class DockingMarket:
    """Committed parties and the licence with its data room (one confidential file, NDA version 1)."""

    parties: Parties
    licence: int
    licence_title: str
    secret_file: int
    secret_name: str
    secret_bytes: bytes
    buyer_org_name: str
    seller_org_name: str


def open_docking_market(app: Flask) -> DockingMarket:
    """``open_market``'s parties and listings; the licence gets a confidential file (in a revision submitted by the
    seller and approved by the platform) and an NDA written by the seller."""
    market = open_market(app)
    parties, licence = market.parties, market.licence
    with app.app_context():
        seller = db.session.get(User, parties.seller_id)
        admin = db.session.get(User, parties.admin_id)
        assert seller is not None and admin is not None
        secret = attachments.add_attachment(seller, licence, io.BytesIO(SECRET), SECRET_NAME, "attachment")
        data_room_files.set_confidential(seller, licence, secret.id, True)
        secret_id = secret.id
        listings.submit_listing(seller, licence)
        db.session.commit()
        listing_review.decide(admin, licence, "approve")
        db.session.commit()
        nda = data_rooms.write_nda(seller, licence, NDA_ZH, NDA_EN)
        db.session.commit()
        assert nda.version == 1
        listing = listings.own_listing(seller, licence)
        assert listing.published_version is not None and not listing.has_pending_revision
        assert [a.id for a in listing.published_version.attachments if a.confidential] == [secret_id]
        title = listing.published_version.title_zh
        buyer_org = db.session.get(Institution, parties.buyer_org)
        seller_org = db.session.get(Institution, parties.seller_org)
        assert buyer_org is not None and seller_org is not None and title
        names = buyer_org.name_zh, seller_org.name_zh
        db.session.remove()
    return DockingMarket(parties, licence, title, secret_id, SECRET_NAME, SECRET, *names)
