"""Demo data of docking exhibitions: one published upcoming exhibition whose roadshow has two demo listings and a
demo demand (invited and accepted), and one past exhibition with an enquiry started from it (a lead).

Made through the services a request would use; the past exhibition is created in the future, filled, and then
moved back in time (demo data only: an admin cannot publish an exhibition that is over)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hall.extensions import db
from hall.models import Demand, Listing, ListingVersion, User
from hall.models.exhibitions import Exhibition
from hall.models.types import utcnow
from hall.services.accounts.accounts import find_user_by_email
from hall.services.docking import demand_review, demands, threads
from hall.services.policy import exhibitions, exhibitions_entries

DEMO_DEMAND = "固态电池电解质界面稳定性技术需求"


def _listing_id(title_zh_prefix: str) -> int | None:
    return db.session.scalar(select(ListingVersion.listing_id).where(
        ListingVersion.title_zh.startswith(title_zh_prefix), ListingVersion.review_status == "approved").limit(1))


def _demo_demand(admin: User, poster: User) -> int:
    """A published demand of the demo enterprise (made once)."""
    found = db.session.scalar(select(Demand.id).where(Demand.title_zh == DEMO_DEMAND))
    if found is not None:
        return int(found)
    demand = demands.create_demand(poster, {
        "title_zh": DEMO_DEMAND, "title_en": "Stable electrolyte interfaces for solid-state batteries wanted",
        "description_zh": "寻求提升固态电解质与电极界面稳定性的材料或工艺，可联合开发。（演示数据）",
        "description_en": "We look for materials or processes that stabilise the solid electrolyte–electrode "
                          "interface; joint development welcome. (demo data)",
        "direction_code": "energy", "budget_negotiable": True, "deadline": utcnow().date() + timedelta(days=90),
        "deal_modes": ["joint_development", "transfer"], "keywords": ["固态电池", "solid-state battery"]})
    demands.submit_demand(poster, demand.id)
    demand_review.decide(admin, demand.id, "approve")
    return demand.id


def _accepted(admin: User, exhibition_id: int, owner: User, **subject: int) -> None:
    entry = exhibitions_entries.invite(admin, exhibition_id, **subject)
    exhibitions_entries.answer_invitation(owner, entry.id, "accept")


def seed_demo_exhibitions(admin: User) -> None:
    """Create the demo records of this feature when they are missing (idempotent)."""
    if db.session.scalar(select(func.count()).select_from(Exhibition)):
        return
    univ, ssb, agency = (find_user_by_email("owner@univ.demo"), find_user_by_email("owner@ssb.demo"),
                         find_user_by_email("owner@ttc.demo"))
    quantum, product = _listing_id("城域量子密钥"), _listing_id("兆瓦级")
    if univ is None or ssb is None or agency is None or quantum is None:
        return
    now = utcnow()
    upcoming = exhibitions.create_exhibition(admin, {
        "title_zh": "2027 未来产业成果对接会（储能与量子通信专场）",
        "title_en": "2027 Future Industries Docking Exhibition: Energy Storage and Quantum Communication",
        "description_zh": "成果路演、供需对接与现场洽谈。线下在上海举办，同步线上直播。（演示数据）",
        "description_en": "Roadshows, supply–demand docking and meetings on site in Shanghai, streamed online. "
                          "(demo data)",
        "starts_at": now + timedelta(days=21), "ends_at": now + timedelta(days=22), "mode": "hybrid",
        "place": "上海市徐汇区漕溪北路 1 号 会议中心 A 厅", "online_url": "https://live.example.cn/expo-2027",
        "directions": ["energy", "information"], "registration_deadline": now + timedelta(days=19),
        "capacity": 200})
    exhibitions.publish_exhibition(admin, upcoming.id)
    for listing_id in (quantum, product):
        if listing_id is None:
            continue
        listing = db.session.get(Listing, listing_id)
        owner = db.session.scalar(select(User).where(User.institution_id == listing.institution_id,
                                                     User.institution_role == "owner").limit(1)) if listing else None
        if owner is not None:
            _accepted(admin, upcoming.id, owner, listing_id=listing_id)
    _accepted(admin, upcoming.id, ssb, demand_id=_demo_demand(admin, ssb))

    past = exhibitions.create_exhibition(admin, {
        "title_zh": "2026 量子信息成果路演（线上）", "title_en": "2026 Quantum Information Roadshow (online)",
        "description_zh": "量子通信成果线上路演。（演示数据）", "description_en": "Online roadshow. (demo data)",
        "starts_at": now + timedelta(hours=1), "ends_at": now + timedelta(hours=3), "mode": "online",
        "online_url": "https://live.example.cn/quantum-2026", "directions": ["information"]})
    exhibitions.publish_exhibition(admin, past.id)
    _accepted(admin, past.id, univ, listing_id=quantum)
    threads.open_thread(agency, listing_id=quantum, exhibition_id=past.id,
                        body="在量子信息路演上看到贵方成果，希望了解普通许可的条件。（演示数据）")
    past.starts_at, past.ends_at = now - timedelta(days=30, hours=3), now - timedelta(days=30)
    db.session.flush()
