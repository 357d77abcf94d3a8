"""The annual report on the transformation of S&T achievements (促进科技成果转化法 Art. 21): per institution and
year, the achievements it transferred, licensed (by licence kind) or invested as equity, from its technology-contract
records as seller completed in that year — counts and amounts by way of transformation, the technology-transaction
total and the detail rows (achievement, way, counterparty and its credit code, amounts, date, state funding).

Amounts are summed per currency (a mixed year shows one line per currency). A refund after completion stays in the
report with the refunded part in its own column, and the technology-transaction amount net of it."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hall.extensions import db
from hall.models import Institution, User
from hall.models.contracts import ContractRecord
from hall.money import to_major_text
from hall.services.core.access import require_admin, require_member
from hall.services.core.errors import InvalidInput, NotFound
from hall.services.core.spreadsheets import Columns, defuse, to_csv
from hall.services.policy import contracts
from hall.services.policy.contracts_export import party_name, record_name

FIRST_YEAR = 2000
WAYS = ("transfer", "license", "equity", "other")
WAY_NAMES = {"transfer": _l("Transfer"), "license": _l("Licence"), "equity": _l("Equity investment"),
             "other": _l("Other (development, service)")}
LICENCE_KINDS = ("exclusive_license", "sole_license", "non_exclusive_license")


def way_of(deal_mode: str) -> str:
    """The way of transformation (转让/许可/作价投资/other) of a deal mode."""
    if deal_mode == "transfer":
        return "transfer"
    if deal_mode in LICENCE_KINDS:
        return "license"
    if deal_mode == "equity":
        return "equity"
    return "other"


@dataclass
class WayTotal:
    """One line of the summary: a way (and licence kind) in one currency."""

    way: str
    licence_kind: str | None
    currency: str
    count: int = 0
    amount: int = 0
    technology_amount: int = 0
    refunded: int = 0
    state_funded: int = 0


@dataclass
class AnnualReport:
    """An institution's year: the summary lines, the totals per currency and the detail records."""

    institution: Institution
    year: int
    lines: list[WayTotal] = field(default_factory=list)
    totals: list[WayTotal] = field(default_factory=list)
    records: list[ContractRecord] = field(default_factory=list)


def check_year(year: int | None) -> int:
    """A year from 2000 to the current one (422 naming ``year`` otherwise)."""
    current = contracts.today().year
    if year is None or not FIRST_YEAR <= year <= current:
        raise InvalidInput.field("year", _("a year from %(first)s to %(last)s", first=FIRST_YEAR, last=current))
    return year


def _records(institution_id: int | None, year: int) -> list[ContractRecord]:
    query = (select(ContractRecord).options(selectinload(ContractRecord.order))
             .where(ContractRecord.category == "technology",
                    ContractRecord.completed_on >= date(year, 1, 1),
                    ContractRecord.completed_on <= date(year, 12, 31))
             .order_by(ContractRecord.completed_on, ContractRecord.id))
    if institution_id is not None:
        query = query.where(ContractRecord.seller_institution_id == institution_id)
    return list(db.session.scalars(query))


def _add(line: WayTotal, record: ContractRecord) -> None:
    line.count += 1
    line.amount += record.amount
    line.technology_amount += contracts.technology_amount(record)
    line.refunded += contracts.refunded_amount(record)
    line.state_funded += 1 if record.state_funded else 0


def summarise(institution: Institution, year: int, records: list[ContractRecord]) -> AnnualReport:
    """The summary lines (per way, licence kind and currency, in the form's order) and totals of ``records``."""
    lines: dict[tuple[str, str | None, str], WayTotal] = {}
    totals: dict[str, WayTotal] = {}
    for record in records:
        way = way_of(record.deal_mode)
        kind = record.deal_mode if way == "license" else None
        _add(lines.setdefault((way, kind, record.currency), WayTotal(way, kind, record.currency)), record)
        _add(totals.setdefault(record.currency, WayTotal("total", None, record.currency)), record)
    order = {(w, k): i for i, (w, k) in enumerate([("transfer", None), *(("license", k) for k in LICENCE_KINDS),
                                                   ("equity", None), ("other", None)])}
    ordered = sorted(lines.values(), key=lambda line: (order[(line.way, line.licence_kind)], line.currency))
    return AnnualReport(institution, year, ordered, sorted(totals.values(), key=lambda t: t.currency), records)


def annual_report(actor: User, year: int | None, institution_id: int | None = None) -> AnnualReport:
    """The report of the actor's institution (members), or of any institution (admins, ``institution_id``)."""
    year = check_year(year)
    if institution_id is not None and actor.is_admin:
        institution = db.session.get(Institution, institution_id)
        if institution is None:
            raise NotFound(_("No such institution."))
    else:
        institution = require_member(actor)
        if institution_id is not None and institution_id != institution.id:
            raise NotFound(_("No such institution."))
    contracts.backfill_records(institution.id)
    return summarise(institution, year, _records(institution.id, year))


def platform_figures(admin: User, year: int | None) -> list[tuple[Institution, list[WayTotal]]]:
    """The console's view of a year: each selling institution's totals per way and currency, largest count first."""
    require_admin(admin, _("see every institution's annual figures"))
    year = check_year(year)
    contracts.backfill_records()
    by_seller: dict[int, list[ContractRecord]] = {}
    for record in _records(None, year):
        by_seller.setdefault(record.seller_institution_id, []).append(record)
    result = []
    for seller_id, records in by_seller.items():
        institution = db.session.get(Institution, seller_id)
        if institution is not None:
            result.append((institution, summarise(institution, year, records).lines))
    return sorted(result, key=lambda pair: (-sum(line.count for line in pair[1]), pair[0].id))


# --- Files -------------------------------------------------------------------------------------------------------

SUMMARY_COLUMNS = (("way", _l("Way of transformation")), ("licence_kind", _l("Licence kind")),
                   ("currency", _l("Currency")), ("count", _l("Number of contracts")),
                   ("amount", _l("Contract amount")),
                   ("technology_amount", _l("Technology-transaction amount")), ("refunded", _l("Refunded")),
                   ("state_funded", _l("State-funded achievements")))
DETAIL_COLUMNS = (("number", _l("Contract number")), ("achievement", _l("Achievement")),
                  ("way", _l("Way of transformation")), ("licence_kind", _l("Licence kind")),
                  ("counterparty", _l("Counterparty")), ("counterparty_code", _l("Counterparty's credit code")),
                  ("amount", _l("Contract amount")), ("technology_amount", _l("Technology-transaction amount")),
                  ("refunded", _l("Refunded")), ("currency", _l("Currency")), ("completed_on", _l("Completed on")),
                  ("state_funded", _l("State-funded")))


def _columns(chosen: tuple[tuple[str, Any], ...]) -> Columns:
    return tuple((key, str(label)) for key, label in chosen)


def way_name(way: str) -> str:
    """A way of transformation in words ("total" for the totals line)."""
    return _("Total") if way == "total" else str(WAY_NAMES[way])


def summary_row(line: WayTotal) -> dict[str, Any]:
    """A summary line for a file (amounts in the main unit)."""
    money = lambda value: to_major_text(value, line.currency)  # noqa: E731
    return {"way": way_name(line.way), "licence_kind": _(line.licence_kind) if line.licence_kind else "",
            "currency": line.currency, "count": line.count, "amount": money(line.amount),
            "technology_amount": money(line.technology_amount), "refunded": money(line.refunded),
            "state_funded": line.state_funded}


def detail_row(record: ContractRecord) -> dict[str, Any]:
    """A detail row for a file."""
    way = way_of(record.deal_mode)
    money = lambda value: to_major_text(value, record.currency)  # noqa: E731
    return {"number": record.contract_number, "achievement": record_name(record), "way": way_name(way),
            "licence_kind": _(record.deal_mode) if way == "license" else "",
            "counterparty": party_name(record.buyer_name_zh, record.buyer_name_en),
            "counterparty_code": record.buyer_credit_code, "amount": money(record.amount),
            "technology_amount": money(contracts.technology_amount(record)),
            "refunded": money(contracts.refunded_amount(record)), "currency": record.currency,
            "completed_on": record.completed_on.isoformat(),
            "state_funded": _("yes") if record.state_funded else _("no")}


def report_csv(report: AnnualReport) -> bytes:
    """The detail rows as CSV (UTF-8 with BOM)."""
    return to_csv(_columns(DETAIL_COLUMNS), (detail_row(r) for r in report.records))


def report_xlsx(report: AnnualReport) -> bytes:
    """A workbook with a summary sheet (institution, credit code, year, lines, totals) and a details sheet."""
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet(_("Summary of the year")[:31])
    org = report.institution
    summary.append([defuse(_("Institution")), defuse(party_name(org.name_zh, org.name_en))])
    summary.append([defuse(_("Unified social credit code")), org.credit_code])
    summary.append([defuse(_("Year")), report.year])
    summary.append([])
    summary.append([label for _key, label in _columns(SUMMARY_COLUMNS)])
    for line in [*report.lines, *report.totals]:
        row = summary_row(line)
        summary.append([defuse(row[key]) for key, _label in SUMMARY_COLUMNS])
    details = workbook.create_sheet(_("Contract details")[:31])
    details.append([label for _key, label in _columns(DETAIL_COLUMNS)])
    for record in report.records:
        row = detail_row(record)
        details.append([defuse(row[key]) for key, _label in DETAIL_COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
