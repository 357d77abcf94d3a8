"""structured deal scope (field codes, region codes) and claims for every scoped deal

Revision ID: 0004_structured_scope
Revises: 0003_trading
Create Date: 2026-12-01 03:15:00

Orders keep their columns ``field_of_use`` and ``territory``, which now hold codes: a taxonomy code (a field such
as energy.storage or a direction such as energy) and a territory code (CN or a GB/T 2260 six-digit code; NULL is
worldwide). Free text written before is converted where it names a taxonomy entry, a province, China or the
world; text that matches nothing becomes NULL (unrestricted: the old deal now blocks more, never less) and is kept
in the order's buyer_note. ``exclusive_claims`` gains the deal mode, and every open or sold non-exclusive licence
gets the claim row it lacked, so that a later exclusive deal sees it.
"""
from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0004_structured_scope"
down_revision = "0003_trading"
branch_labels = None
depends_on = None

SCOPED_MODES = ("transfer", "exclusive_license", "sole_license", "non_exclusive_license")
# Order states in which an order holds its claim (a full refund, a cancellation or an expiry released it).
HOLDING = ("accepted", "awaiting_payment", "paid", "delivered", "completed", "disputed")
PROVINCES = {  # GB/T 2260 province-level code: Chinese name, English name (as of this migration)
    "110000": ("北京市", "Beijing"), "120000": ("天津市", "Tianjin"), "130000": ("河北省", "Hebei"),
    "140000": ("山西省", "Shanxi"), "150000": ("内蒙古自治区", "Inner Mongolia"), "210000": ("辽宁省", "Liaoning"),
    "220000": ("吉林省", "Jilin"), "230000": ("黑龙江省", "Heilongjiang"), "310000": ("上海市", "Shanghai"),
    "320000": ("江苏省", "Jiangsu"), "330000": ("浙江省", "Zhejiang"), "340000": ("安徽省", "Anhui"),
    "350000": ("福建省", "Fujian"), "360000": ("江西省", "Jiangxi"), "370000": ("山东省", "Shandong"),
    "410000": ("河南省", "Henan"), "420000": ("湖北省", "Hubei"), "430000": ("湖南省", "Hunan"),
    "440000": ("广东省", "Guangdong"), "450000": ("广西壮族自治区", "Guangxi"), "460000": ("海南省", "Hainan"),
    "500000": ("重庆市", "Chongqing"), "510000": ("四川省", "Sichuan"), "520000": ("贵州省", "Guizhou"),
    "530000": ("云南省", "Yunnan"), "540000": ("西藏自治区", "Tibet"), "610000": ("陕西省", "Shaanxi"),
    "620000": ("甘肃省", "Gansu"), "630000": ("青海省", "Qinghai"), "640000": ("宁夏回族自治区", "Ningxia"),
    "650000": ("新疆维吾尔自治区", "Xinjiang"), "710000": ("台湾省", "Taiwan"),
    "810000": ("香港特别行政区", "Hong Kong"), "820000": ("澳门特别行政区", "Macao"),
}
WORLD_WORDS = {"world", "worldwide", "global", "全球", "全世界", "世界"}
CHINA_WORDS = {"cn", "china", "prc", "mainlandchina", "中国", "全国", "中国大陆", "中国境内", "中华人民共和国", "境内"}
UNMATCHED = object()

orders = sa.table("orders", sa.column("id", sa.Integer), sa.column("deal_mode", sa.String),
                  sa.column("status", sa.String), sa.column("listing_id", sa.Integer),
                  sa.column("field_of_use", sa.String), sa.column("territory", sa.String),
                  sa.column("term_start", sa.Date), sa.column("term_end", sa.Date),
                  sa.column("buyer_note", sa.Text), sa.column("created_at", sa.DateTime(timezone=True)))
claims = sa.table("exclusive_claims", sa.column("id", sa.Integer), sa.column("order_id", sa.Integer),
                  sa.column("listing_id", sa.Integer), sa.column("deal_mode", sa.String),
                  sa.column("field_of_use", sa.String), sa.column("territory", sa.String),
                  sa.column("term_start", sa.Date), sa.column("term_end", sa.Date),
                  sa.column("created_at", sa.DateTime(timezone=True)))


def _plain(text):
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _territory_names():
    names = {word: None for word in WORLD_WORDS} | {word: "CN" for word in CHINA_WORDS}
    for code, (zh, en) in PROVINCES.items():
        short = re.sub(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$", "", zh)
        names.update({_plain(zh): code, _plain(short): code, _plain(en): code})
    return names


def _territory_code(text, names):
    plain = _plain(text)
    if plain in names:
        return names[plain]
    if re.fullmatch(r"\d{6}", plain) and f"{plain[:2]}0000" in PROVINCES and \
            not (plain[2:4] == "00" and plain[4:] != "00"):
        return plain
    return UNMATCHED


def _field_names(bind):
    names = {}
    for table in ("industry_directions", "industry_fields"):
        for code, zh, en in bind.execute(sa.text(f"SELECT code, name_zh, name_en FROM {table}")):
            names.update({_plain(code): code, _plain(zh): code, _plain(en): code})
    return names


def _convert_orders(bind):
    """Free text → codes on scoped orders; what matches nothing becomes NULL and is kept in the buyer's note."""
    territories, fields = _territory_names(), _field_names(bind)
    rows = bind.execute(sa.select(orders.c.id, orders.c.field_of_use, orders.c.territory, orders.c.buyer_note)
                        .where(orders.c.deal_mode.in_(SCOPED_MODES),
                               sa.or_(orders.c.field_of_use.is_not(None), orders.c.territory.is_not(None))))
    for order_id, field_text, territory_text, note in rows.all():
        field = fields.get(_plain(field_text), UNMATCHED) if field_text and field_text.strip() else None
        territory = _territory_code(territory_text, territories) if territory_text and territory_text.strip() \
            else None
        lost = [f"{label} 「{text}」" for label, text, value in (("field of use", field_text, field),
                                                                 ("territory", territory_text, territory))
                if value is UNMATCHED]
        if lost:
            kept = f"[scope before structured codes: {', '.join(lost)} — matched no code, now unrestricted]"
            note = f"{note}\n{kept}" if note else kept
        bind.execute(orders.update().where(orders.c.id == order_id).values(
            field_of_use=None if field is UNMATCHED else field,
            territory=None if territory is UNMATCHED else territory, buyer_note=note))


def upgrade():
    bind = op.get_bind()
    with op.batch_alter_table("exclusive_claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deal_mode", sa.String(length=32), nullable=True))

    _convert_orders(bind)
    scope = {name: sa.select(getattr(orders.c, name)).where(orders.c.id == claims.c.order_id).scalar_subquery()
             for name in ("deal_mode", "field_of_use", "territory", "term_start", "term_end")}
    bind.execute(claims.update().values(**scope))
    unclaimed = sa.select(orders.c.listing_id, orders.c.id, orders.c.deal_mode, orders.c.field_of_use,
                          orders.c.territory, orders.c.term_start, orders.c.term_end, orders.c.created_at).where(
        orders.c.deal_mode.in_(SCOPED_MODES), orders.c.status.in_(HOLDING),
        ~sa.exists().where(claims.c.order_id == orders.c.id))
    bind.execute(claims.insert().from_select(["listing_id", "order_id", "deal_mode", "field_of_use", "territory",
                                              "term_start", "term_end", "created_at"], unclaimed))

    with op.batch_alter_table("exclusive_claims", schema=None) as batch_op:
        batch_op.alter_column("deal_mode", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("field_of_use", existing_type=sa.String(length=200), type_=sa.String(length=60),
                              existing_nullable=True)
        batch_op.alter_column("territory", existing_type=sa.String(length=200), type_=sa.String(length=8),
                              existing_nullable=True)
        batch_op.create_check_constraint(op.f("ck_exclusive_claims_deal_mode"), "deal_mode IN ('transfer', "
                                         "'exclusive_license', 'sole_license', 'non_exclusive_license')")


def downgrade():
    # Before this revision only transfers and exclusive or sole licences held claims.
    op.execute(claims.delete().where(claims.c.deal_mode == "non_exclusive_license"))
    with op.batch_alter_table("exclusive_claims", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_exclusive_claims_deal_mode"), type_="check")
        batch_op.alter_column("territory", existing_type=sa.String(length=8), type_=sa.String(length=200),
                              existing_nullable=True)
        batch_op.alter_column("field_of_use", existing_type=sa.String(length=60), type_=sa.String(length=200),
                              existing_nullable=True)
        batch_op.drop_column("deal_mode")
