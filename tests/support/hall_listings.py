"""The published hall of the search tests: eight published listings of two institutions with chosen words,
fields, regions, prices and deal modes, and four unpublished ones that hold every searched word, created through
the services (``build_hall``); ``topic``, ``add_listing`` and ``add_to_hall`` build further listings of the same
kind."""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.models import User
from hall.services.publishing import listing_review, listings
from tests.support.factories import InstitutionFactory, UserFactory, make_people
from tests.support.listing_data import achievement, first_of_kind

TEXT_NAMES = ("title", "summary", "description")
NEUTRAL = {"zh": ("降低成本，提升产线良率。", "工业园区示范应用。"),
           "en": ("Lower cost and higher yield.", "Industrial park pilots.")}
UNPUBLISHED = ("draft", "submitted", "withdrawn", "suspended")


def topic(zh: tuple[str, str, str] | None, en: tuple[str, str, str] | None, **overrides: Any) -> dict[str, Any]:
    """An achievement body whose only text is ``zh`` / ``en`` (title, summary, description) plus neutral filler."""
    body = achievement(keywords=[], inventors=["张三"], ip_assets=[])
    for lang, texts in (("zh", zh), ("en", en)):
        for name, value in zip(TEXT_NAMES, texts or (None, None, None)):
            body[f"{name}_{lang}"] = value
        body[f"benefit_{lang}"], body[f"scenarios_{lang}"] = NEUTRAL[lang] if texts else (None, None)
    body.update(overrides)
    if body["price_mode"] == "negotiable":
        body.pop("price_amount")
    return body


def add_listing(author: User, admin: User, body: dict[str, Any], status: str = "published") -> int:
    """Inside an app context: create a listing through the services and bring it to ``status``; commits."""
    content = dict(body)
    kind = content.pop("kind")
    listing_id = listings.create_draft(author, kind, content).id
    if status != "draft":
        listings.submit_listing(author, listing_id)
    if status in ("published", "withdrawn", "suspended"):
        listing_review.decide(admin, listing_id, "approve")
    if status == "withdrawn":
        listings.withdraw_listing(author, listing_id)
    elif status == "suspended":
        listing_review.suspend_listing(admin, listing_id, "虚假宣传")
    db.session.commit()
    return listing_id


def hall_listings() -> dict[str, tuple[str, dict[str, Any]]]:
    """name → (institution 'a' or 'b', body) for the eight published listings, in creation order."""
    return {
        "graphene": ("a", topic(
            ("石墨烯增强铝基复合材料", "纳米片均匀分散于铝合金基体，抗拉强度提高一倍。",
             "采用粉末冶金工艺，适合航空结构件。"),
            ("Graphene reinforced aluminium composite", "Graphene in an aluminium alloy doubles the tensile strength.",
             "Powder metallurgy route for aerospace parts."),
            direction_code="materials", field_code="materials.advanced_basic", region_code="110108", trl=5,
            deal_modes=["transfer"], price_amount=300_000_00, state_funded=False)),
        "solid": ("a", topic(
            ("高安全固态电池电解质", "硫化物电解质用于锂离子电池，不易燃。",
             "负极采用石墨烯涂层集流体，石墨烯层使循环寿命超过两千次。"),
            ("Safe solid-state battery electrolyte", "A sulfide electrolyte for lithium-ion cells that does not burn.",
             "A coated current collector gives two thousand cycles."),
            direction_code="energy", field_code="energy.storage", region_code="440305", trl=7,
            deal_modes=["exclusive_license"], price_amount=800_000_00, state_funded=True)),
        "perovskite": ("a", topic(
            ("钙钛矿高效太阳能电池制备工艺", "钙钛矿叠层太阳能电池，光电转换效率超过百分之三十。",
             "低温溶液法制备大面积组件。"),
            None,  # Chinese only
            direction_code="energy", field_code="energy.solar_cells", region_code="320102", trl=4,
            deal_modes=["joint_development"], price_mode="negotiable", state_funded=True)),
        "bci": ("b", topic(
            ("无创脑机接口康复设备", "脑电信号解码驱动外骨骼，帮助中风患者康复。", "干电极头环佩戴方便。"),
            ("Non-invasive brain-computer interface for rehabilitation",
             "Decoded brain signals drive an exoskeleton for stroke patients.",
             "A dry-electrode headband that is easy to wear."),
            direction_code="health", field_code="health.high_end_medical_equipment", region_code="310115", trl=6,
            deal_modes=["non_exclusive_license", "technical_service"], price_mode="starting",
            price_amount=200_000_00, state_funded=False)),
        "carbon": ("a", topic(
            ("高模量碳纤维材料", "拉伸模量达到五百吉帕的碳纤维。", "湿法纺丝结合高温碳化处理。"),
            ("High-modulus carbon fibre", "Carbon fibre with a tensile modulus of 500 GPa.",
             "Wet spinning and high-temperature carbonisation."),
            direction_code="materials", field_code="materials.key_strategic", region_code="440106", trl=8,
            deal_modes=["transfer", "equity"], price_amount=1_500_000_00, state_funded=True)),
        "quantum": ("b", topic(
            ("城域量子通信网络", "基于量子密钥分发的城域保密通信网络。", "支持百公里光纤链路。"),
            ("Metropolitan quantum communication network", "Secure city networks using quantum key distribution.",
             "Supports fibre links of one hundred kilometres."),
            direction_code="information", field_code="information.quantum", region_code="110105", trl=7,
            deal_modes=["technical_service"], price_mode="negotiable", state_funded=True)),
        "english": ("a", topic(
            None,  # English only
            ("Graphene batteries for fast charging", "Graphene electrodes let batteries charge in ten minutes.",
             "Electrodes coated by chemical vapour deposition."),
            direction_code="energy", field_code="energy.storage", region_code="330106", trl=5,
            deal_modes=["transfer"], price_amount=50_000_00, state_funded=False)),
        "product": ("a", first_of_kind()),  # 兆瓦级氢燃料电池发电系统, 440305, energy.hydrogen, 12 000 000 yuan
    }


def unpublished_body() -> dict[str, Any]:
    """An achievement whose text holds every word the tests search for."""
    return achievement(title_zh="石墨烯钙钛矿脑机接口碳纤维固态电池", title_en="Graphene batteries on perovskite",
                       keywords=["量子通信", "graphene", "电池"])


def build_hall(app: Flask) -> dict[str, int]:
    """Publish the eight listings (and the four unpublished ones); name → id, plus the institutions."""
    with app.app_context():
        people = make_people()
        admin = UserFactory(is_admin=True)
        unverified = InstitutionFactory(verification_status="pending")
        db.session.commit()
        authors = {"a": db.session.get(User, people["member_id"]), "b": db.session.get(User, people["other_owner_id"])}
        ids = {name: add_listing(authors[org], admin, body) for name, (org, body) in hall_listings().items()}
        ids |= {status: add_listing(authors["a"], admin, unpublished_body(), status) for status in UNPUBLISHED}
        ids |= {"org_a": people["org"], "org_b": people["other_org"], "unverified_org": unverified.id}
        db.session.remove()
    return ids


PUBLISHED = tuple(hall_listings())  # the names of the eight published listings, in creation order


def add_to_hall(app: Flask, ids: dict[str, int], bodies: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Publish more listings into ``build_hall``'s hall, by its second institution's owner: ``ids`` with their
    names → ids added."""
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.is_admin.is_(True)))
        author = db.session.scalar(select(User).where(User.institution_id == ids["org_b"]))
        assert admin is not None and author is not None
        ids |= {name: add_listing(author, admin, body) for name, body in bodies.items()}
        db.session.remove()
    return ids
