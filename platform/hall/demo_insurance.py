"""Demo data of first-of-kind insurance policies and premium compensation applications: the demo hydrogen
fuel-cell power system (a national first major equipment) is insured by a three-year policy, and its first policy
year's compensation application is filed with the policy as a PDF, so the workspace and the console's queue have
something to show."""
from __future__ import annotations

import io
from datetime import date

from sqlalchemy import select

from hall.extensions import db
from hall.models import Listing, ListingVersion, User
from hall.models.insurance import InsurancePolicy
from hall.models.types import utcnow
from hall.services.accounts.accounts import find_user_by_email
from hall.services.policy import insurance, insurance_applications

OWNER = "owner@ssb.demo"
PRODUCT = "兆瓦级氢燃料电池分布式发电系统"
INSURER = "中国人民财产保险股份有限公司"
NUMBER = "PICC-SZ-2025-FK-0001"
# A one-page PDF (the type is judged by content: it must start with the PDF signature).
POLICY_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
              b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n"
              b"%%EOF\n")


def seed_demo_insurance(admin: User) -> None:
    """Create the demo records of this feature when they are missing (idempotent)."""
    del admin  # the platform's decision is left to whoever tries the console
    owner = find_user_by_email(OWNER)
    if owner is None or owner.institution_id is None:
        return
    if db.session.scalar(select(InsurancePolicy.id).where(InsurancePolicy.insurer == INSURER,
                                                          InsurancePolicy.policy_number == NUMBER)) is not None:
        return
    listing_id = db.session.scalar(
        select(Listing.id).join(ListingVersion, ListingVersion.id == Listing.published_version_id)
        .where(Listing.institution_id == owner.institution_id, ListingVersion.title_zh == PRODUCT))
    if listing_id is None:
        return
    year = utcnow().date().year
    policy = insurance.create_policy(owner, {
        "listing_id": listing_id, "insurer": INSURER, "policy_number": NUMBER,
        "coverage": "产品质量风险（质量险）和产品责任风险（责任险）", "insured_amount": 12_000_000_00,
        "premium": 360_000_00, "currency": "CNY", "period_start": date(year - 1, 1, 1),
        "period_end": date(year + 2, 1, 1)})
    application = insurance_applications.create_application(owner, policy.id, 1,
                                                            "第一个保险年度的保费补偿申请（演示数据）")
    insurance_applications.add_document(owner, application.id, io.BytesIO(POLICY_PDF), "保单.pdf", "policy")
    insurance_applications.file_application(owner, application.id)
