"""The directory for promoting cutting-edge technology applications: published listings as CSV or XLSX."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hall.extensions import db
from hall.models import HallIndexEntry, Institution, Listing, ListingVersion
from hall.money import to_major_text
from hall.search.query import build_query
from hall.services.core.spreadsheets import to_csv, to_xlsx
from hall.services.publishing.hall import HallFilter, filtered_selection, public_listing_conditions

COLUMNS = (
    ("listing_id", "编号 ID"), ("kind", "类型 Kind"), ("title_zh", "名称"), ("title_en", "Title"),
    ("institution", "发布机构 Institution"), ("direction_code", "方向 Direction"), ("field_code", "领域 Field"),
    ("region_code", "地区 Region"), ("trl", "成熟度 TRL"), ("deal_modes", "交易方式 Deal modes"),
    ("price_mode", "价格方式 Price mode"), ("price", "价格 Price"), ("currency", "币种 Currency"),
    ("product_kind", "首台套类别 Product kind"), ("recognition_level", "认定级别 Recognition"),
    ("state_funded", "财政资助 State funded"), ("published_at", "发布日期 Published"),
)


def _price(amount: int | None, currency: str) -> str:
    return "" if amount is None else to_major_text(amount, currency)


def directory_rows(f: HallFilter, limit: int) -> Iterator[dict[str, Any]]:
    """The public listings matching ``f`` (newest first), one dict per row, at most ``limit``; each row is held
    to the hall's visibility rule."""
    query = filtered_selection(f, build_query(f.q) if f.q else [])
    h = HallIndexEntry
    rows = db.session.execute(
        query.with_only_columns(h, ListingVersion, Institution.name_zh)
        .join(ListingVersion, ListingVersion.id == h.version_id)
        .join(Institution, Institution.id == h.institution_id)
        .join(Listing, Listing.id == h.listing_id)
        .where(*public_listing_conditions())
        .order_by(h.published_at.desc(), h.listing_id.desc()).limit(limit)
        .execution_options(yield_per=1000)
    )
    for entry, version, institution in rows:
        yield {
            "listing_id": entry.listing_id, "kind": entry.kind, "title_zh": version.title_zh or "",
            "title_en": version.title_en or "", "institution": institution, "direction_code": entry.direction_code,
            "field_code": entry.field_code, "region_code": entry.region_code, "trl": entry.trl,
            "deal_modes": " ".join(version.deal_modes or []), "price_mode": entry.price_mode,
            "price": _price(entry.price_amount, entry.currency), "currency": entry.currency,
            "product_kind": entry.product_kind or "", "recognition_level": entry.recognition_level or "",
            "state_funded": "yes" if entry.state_funded else "no",
            "published_at": entry.published_at.date().isoformat(),
        }


def directory_csv(f: HallFilter, limit: int) -> bytes:
    """CSV with a byte-order mark so spreadsheet programs read the Chinese correctly."""
    return to_csv(COLUMNS, directory_rows(f, limit))


def directory_xlsx(f: HallFilter, limit: int) -> bytes:
    """An Excel workbook with one sheet of listings."""
    return to_xlsx("目录 Directory", COLUMNS, directory_rows(f, limit))
