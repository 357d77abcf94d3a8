"""Exports of technical-contract records in the columns of the registration form (技术合同认定登记表), as CSV and XLSX,
for an institution (its contracts as seller and as buyer, with a side column) and for the platform (every
institution). Technology contracts only: a product sale is a sales contract and is not registered. Headers and codes
are in the reader's language; amounts in the currency's main unit (元 for CNY), with what was refunded."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hall.extensions import db
from hall.labels import state_word
from hall.models import User
from hall.models.contracts import ContractRecord
from hall.money import to_major_text
from hall.services.core.access import require_member
from hall.services.core.spreadsheets import Columns, to_csv, to_xlsx
from hall.services.policy import contracts
from hall.services.policy.contracts import ContractFilter
from hall.services.trading.scope import field_label

# The registration form's columns, in its order; the institution's export adds the side it is on.
FORM_COLUMNS = (
    ("number", _l("Contract number")), ("name", _l("Contract name")), ("type", _l("Contract type")),
    ("field", _l("Technology field")), ("seller", _l("Seller (technology supplier)")),
    ("seller_code", _l("Seller's unified social credit code")), ("buyer", _l("Buyer (technology recipient)")),
    ("buyer_code", _l("Buyer's unified social credit code")), ("amount", _l("Contract amount (yuan)")),
    ("technology_amount", _l("Technology-transaction amount (yuan)")), ("refunded", _l("Refunded (yuan)")),
    ("currency", _l("Currency")), ("signed_on", _l("Signed on")), ("performance_start", _l("Performance from")),
    ("performance_end", _l("Performance to")), ("ip_types", _l("IP types")), ("completed_on", _l("Completed on")),
    ("registration_number", _l("Registration number")), ("registered_on", _l("Registered on")),
)
SIDE_COLUMN = ("side", _l("Our side"))
# The five registered types in the registry's words (技术开发/转让/许可/咨询/服务合同).
TYPE_NAMES = {"development": _l("technology development contract"), "transfer": _l("technology transfer contract"),
              "license": _l("technology licence contract"), "consulting": _l("technology consulting contract"),
              "service": _l("technology service contract")}


def _english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def party_name(zh: str | None, en: str | None) -> str:
    """A name in the reader's language, falling back to the other."""
    return (en or zh or "") if _english() else (zh or en or "")


def record_name(record: ContractRecord) -> str:
    """The contract's name (the listing's title when it completed) in the reader's language."""
    return party_name(record.name_zh, record.name_en)


def field_name(record: ContractRecord) -> str:
    """The technology field (or direction) in the reader's language."""
    code = record.field_code or record.direction_code
    if code is None:
        return ""
    label = field_label(code)
    return label["en"] if _english() else label["zh"]


def ip_names(record: ContractRecord) -> str:
    """The IP types of the listing, in words."""
    return ("、" if not _english() else ", ").join(state_word(kind) for kind in record.ip_types or [])


def type_name(record: ContractRecord) -> str:
    """The contract type in the registry's words; a product sale is a sales contract."""
    if record.contract_type is None:
        return _("sales contract")
    return str(TYPE_NAMES.get(record.contract_type) or state_word(record.contract_type))


def _day(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def form_row(record: ContractRecord, side: str | None = None) -> dict[str, Any]:
    """One record in the registration form's columns (amounts in the main unit, codes in words)."""
    currency = record.currency
    return {
        "number": record.contract_number, "name": record_name(record),
        "type": type_name(record),
        "field": field_name(record), "seller": party_name(record.seller_name_zh, record.seller_name_en),
        "seller_code": record.seller_credit_code, "buyer": party_name(record.buyer_name_zh, record.buyer_name_en),
        "buyer_code": record.buyer_credit_code, "amount": to_major_text(record.amount, currency),
        "technology_amount": to_major_text(contracts.technology_amount(record), currency),
        "refunded": to_major_text(contracts.refunded_amount(record), currency), "currency": currency,
        "signed_on": _day(record.signed_on), "performance_start": _day(record.performance_start),
        "performance_end": _day(record.performance_end), "ip_types": ip_names(record),
        "completed_on": _day(record.completed_on), "registration_number": record.registration_number or "",
        "registered_on": _day(record.registered_on),
        "side": (_("seller") if side == "seller" else _("buyer")) if side else "",
    }


def columns(with_side: bool) -> Columns:
    """The export's (key, header) pairs, headers in the reader's language."""
    chosen = (*FORM_COLUMNS, SIDE_COLUMN) if with_side else FORM_COLUMNS
    return tuple((key, str(label)) for key, label in chosen)


def institution_rows(actor: User, f: ContractFilter, limit: int) -> Iterator[dict[str, Any]]:
    """The actor's institution's technology contracts for a download, at most ``limit``."""
    require_member(actor)
    contracts.check_filter(f)
    contracts.backfill_records(actor.institution_id)
    query = contracts.own_query(actor, ContractFilter(f.start, f.end, f.side, f.contract_type, technology_only=True))
    for record in db.session.scalars(query.limit(limit)):
        yield form_row(record, contracts.side_of(actor, record))


def platform_rows(admin: User, f: ContractFilter, limit: int) -> Iterator[dict[str, Any]]:
    """Every institution's technology contracts for a download (the console), at most ``limit``."""
    query = contracts.admin_query(admin, ContractFilter(f.start, f.end, None, f.contract_type, technology_only=True))
    for record in db.session.scalars(query.limit(limit)):
        yield form_row(record)


def _sheet() -> str:
    return _("Technology contracts")[:31]


def institution_export(actor: User, f: ContractFilter, file_format: str, limit: int) -> bytes:
    """The institution's registration export as CSV (UTF-8 with BOM) or XLSX."""
    rows = list(institution_rows(actor, f, limit))
    if file_format == "xlsx":
        return to_xlsx(_sheet(), columns(True), rows)
    return to_csv(columns(True), rows)


def platform_export(admin: User, f: ContractFilter, file_format: str, limit: int) -> bytes:
    """The platform's registration export (every institution) as CSV or XLSX."""
    rows = list(platform_rows(admin, f, limit))
    if file_format == "xlsx":
        return to_xlsx(_sheet(), columns(False), rows)
    return to_csv(columns(False), rows)
