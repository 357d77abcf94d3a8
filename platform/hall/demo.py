"""Demo data: verified institutions of every kind with their people, a platform admin, listings and orders."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from hall.demo_contracts import seed_demo_contracts
from hall.demo_evaluations import seed_demo_evaluations
from hall.demo_exhibitions import seed_demo_exhibitions
from hall.demo_insurance import seed_demo_insurance
from hall.demo_listings import seed_demo_listings
from hall.demo_orders import seed_demo_orders
from hall.extensions import db
from hall.models import Institution, User
from hall.services.accounts import accounts, institutions
from hall.services.core.audit import record_event
from hall.services.core.validation import credit_code_check_character


def demo_credit_code(first17: str) -> str:
    """Complete 17 characters into a valid unified social credit code."""
    return first17 + credit_code_check_character(first17)


# kind, Chinese name, English name, first 17 characters of the credit code, region, owner and member e-mails
DEMO_INSTITUTIONS = (
    ("research_institute", "中国科学院未来材料研究所", "CAS Institute of Future Materials",
     "12" + "110108" + "MB0A12345", "110108", "北京市海淀区中关村北二条 1 号", "https://ifm.example.cn",
     "owner@ifm.demo", "researcher@ifm.demo"),
    ("university", "华东理工科技大学", "East China University of Science and Technology (demo)",
     "12" + "310104" + "MB0B56781", "310104", "上海市徐汇区梅陇路 130 号", "https://ecust.example.cn",
     "owner@univ.demo", "tto@univ.demo"),
    ("enterprise", "深圳固态电池科技有限公司", "Shenzhen Solid-State Battery Technology Co., Ltd.",
     "91" + "440305" + "MA5C90123", "440305", "深圳市南山区科技园", "https://ssb.example.cn", "owner@ssb.demo",
     "sales@ssb.demo"),
    ("evaluator", "国科科技成果评价中心", "Guoke S&T Achievement Evaluation Centre", "52" + "110105" + "MJ0D34567",
     "110105", "北京市朝阳区", "https://eval.example.cn", "owner@eval.demo", "assessor@eval.demo"),
    ("transfer_agency", "长三角技术转移中心", "Yangtze Delta Technology Transfer Centre", "12" + "320102" + "MB0E78901",
     "320102", "南京市玄武区", "https://ttc.example.cn", "owner@ttc.demo", "broker@ttc.demo"),
)
DEMO_ADMIN_EMAIL = "admin@hall.demo"


@dataclass
class DemoAccount:
    """A demo sign-in created by this run (its password exists only here and in the credentials file)."""

    email: str
    password: str
    role: str


def _password() -> str:
    return secrets.token_urlsafe(12)


def database_is_empty() -> bool:
    """True when no institution and no person exists yet."""
    return not (db.session.scalar(select(func.count()).select_from(Institution))
                or db.session.scalar(select(func.count()).select_from(User)))


def seed_demo() -> tuple[list[DemoAccount], int]:
    """Create what is missing of the demo data (idempotent); returns the accounts created in this run and how
    many demo listings were published."""
    created: list[DemoAccount] = []
    admin = accounts.find_user_by_email(DEMO_ADMIN_EMAIL)
    if admin is None:
        password = _password()
        admin = accounts.grant_admin(DEMO_ADMIN_EMAIL, display_name="平台管理员 Admin", password=password)
        created.append(DemoAccount(DEMO_ADMIN_EMAIL, password, "platform admin"))
    for kind, name_zh, name_en, code17, region, address, website, owner_email, member_email in DEMO_INSTITUTIONS:
        code = demo_credit_code(code17)
        if db.session.scalar(select(Institution.id).where(Institution.credit_code == code)) is not None:
            continue
        org = institutions.new_institution(kind=kind, name_zh=name_zh, name_en=name_en, credit_code=code,
                                           region_code=region, address=address, website=website,
                                           description=f"{name_zh}（演示数据）/ {name_en} (demo data)")
        record_event("institution.registered", "institution", org.id, to_state="pending", details={"via": "demo"})
        for email, role in ((owner_email, "owner"), (member_email, "member")):
            password = _password()
            user = accounts.new_user(email, password, email.split("@")[0], "zh_CN", confirmed=True)
            user.institution_id, user.institution_role = org.id, role
            record_event("user.registered", "user", user.id, to_state="active",
                         details={"via": "demo", "institution_id": org.id, "role": role})
            created.append(DemoAccount(email, password, f"{role} of {name_en}"))
        db.session.flush()
        institutions.review_institution(admin, org, "verify", "demo data")
    published = seed_demo_listings(admin)
    seed_demo_orders(admin)
    seed_demo_insurance(admin)
    seed_demo_contracts(admin)
    seed_demo_evaluations(admin)
    seed_demo_exhibitions(admin)
    return created, published
