"""Demo data of evaluation engagements and reports by professional institutions: the demo evaluator (国科科技成果
评价中心) evaluated the carbon-fibre achievement of the CAS demo institute and the institute shows the report on
its public listing."""
from __future__ import annotations

import io
from datetime import date

from sqlalchemy import select

from hall.extensions import db
from hall.models import Listing, ListingVersion, User
from hall.models.evaluations import EvaluationEngagement
from hall.services.accounts.accounts import find_user_by_email
from hall.services.policy import evaluations, evaluations_reports

CLIENT_EMAIL = "owner@ifm.demo"
EVALUATOR_EMAIL = "assessor@eval.demo"
LISTING_TITLE = "T1000 级高性能碳纤维连续化制备技术"
REPORT_NUMBER = "GKPJ-2024-0815"
# A one-page PDF (the demo's report file; real reports are uploaded by the evaluator).
DEMO_PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
            b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n"
            b"trailer << /Root 1 0 R >>\n%%EOF\n")
REPORT = {
    "maturity_grade": 7, "innovation_grade": 3, "advancement_grade": 5, "valuation_method": "income",
    "value_low": 6_500_000_00, "value_high": 9_000_000_00, "currency": "CNY", "report_number": REPORT_NUMBER,
    "issued_on": date(2024, 9, 20),
    "conclusion_zh": "该技术已完成千吨级中试验证，达到国内领先水平；按收益法评估，技术价值区间为 650 万至 900 万元。",
    "conclusion_en": "Proven in a thousand-tonne pilot line, leading in China; the income approach values the "
                     "technology at CNY 6.5–9.0 million.",
}


def seed_demo_evaluations(admin: User) -> None:
    """Create the demo records of this feature when they are missing (idempotent)."""
    client, evaluator = find_user_by_email(CLIENT_EMAIL), find_user_by_email(EVALUATOR_EMAIL)
    if client is None or evaluator is None or evaluator.institution_id is None:
        return
    listing_id = db.session.scalar(select(Listing.id).join(ListingVersion, Listing.published_version_id ==
                                                           ListingVersion.id)
                                   .where(ListingVersion.title_zh == LISTING_TITLE).limit(1))
    if listing_id is None or db.session.scalar(select(EvaluationEngagement.id).where(
            EvaluationEngagement.listing_id == listing_id,
            EvaluationEngagement.evaluator_institution_id == evaluator.institution_id).limit(1)) is not None:
        return
    engagement = evaluations.request_evaluation(client, listing_id, evaluator.institution_id,
                                                "技术成熟度、创新度、先进度评价及技术价值评估（收益法）。")
    evaluations.accept(evaluator, engagement.id)
    evaluations_reports.issue_report(evaluator, engagement.id, dict(REPORT), io.BytesIO(DEMO_PDF), "评价报告.pdf")
    evaluations_reports.attach(client, engagement.id)

