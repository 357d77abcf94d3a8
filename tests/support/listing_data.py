"""Complete listing bodies for tests (a bilingual achievement and a first-of-kind product)."""
from __future__ import annotations

from typing import Any


def achievement(**overrides: Any) -> dict[str, Any]:
    """A complete, valid achievement draft body."""
    body: dict[str, Any] = {
        "kind": "achievement",
        "title_zh": "高能量密度固态电池电解质制备技术",
        "title_en": "Solid-state battery electrolyte with high energy density",
        "summary_zh": "一种硫化物固态电解质及其制备方法，显著提升锂离子电池的能量密度与安全性。",
        "summary_en": "A sulfide solid electrolyte that raises the energy density and safety of lithium-ion batteries.",
        "description_zh": "本技术采用低温合成工艺制备硫化物固态电解质，室温离子电导率达到 10 mS/cm。",
        "description_en": "Low-temperature synthesis of a sulfide electrolyte reaching 10 mS/cm at room temperature.",
        "benefit_zh": "相比液态电解质，不易燃，能量密度提升 40%。",
        "benefit_en": "Unlike liquid electrolytes it does not burn; energy density rises by 40 percent.",
        "scenarios_zh": "电动汽车动力电池、储能电站、消费电子。",
        "scenarios_en": "Electric vehicle batteries, grid storage, consumer electronics.",
        "keywords": ["固态电池", "solid-state battery"],
        "direction_code": "energy",
        "field_code": "energy.storage",
        "region_code": "110108",
        "trl": 6,
        "ip_assets": [{"ip_type": "invention_patent", "number": "CN201710601862.3", "legal_status": "granted",
                       "title": "一种硫化物固态电解质", "expiry_date": "2037-07-10"}],
        "inventors": ["王伟", "李娜"],
        "deal_modes": ["transfer", "non_exclusive_license"],
        "price_mode": "fixed",
        "price_amount": 500_000_00,
        "currency": "CNY",
        "state_funded": True,
    }
    body.update(overrides)
    return body


def first_of_kind(**overrides: Any) -> dict[str, Any]:
    """A complete, valid first-of-kind product draft body (Chinese only)."""
    body: dict[str, Any] = {
        "kind": "first_of_kind",
        "title_zh": "兆瓦级氢燃料电池发电系统",
        "summary_zh": "国内首台兆瓦级氢燃料电池分布式发电系统。",
        "description_zh": "系统额定功率 1 MW，发电效率 55%，可在园区和数据中心使用。",
        "benefit_zh": "效率比同类进口设备高 5 个百分点，价格低 30%。",
        "scenarios_zh": "工业园区、数据中心备用电源。",
        "keywords": ["氢燃料电池", "首台套"],
        "direction_code": "energy",
        "field_code": "energy.hydrogen",
        "region_code": "440305",
        "deal_modes": ["purchase"],
        "price_mode": "fixed",
        "price_amount": 12_000_000_00,
        "first_of_kind": {
            "product_kind": "equipment", "recognition_level": "national",
            "catalogue": "首台（套）重大技术装备推广应用指导目录",
            "catalogue_edition": "2024", "catalogue_item": "4.2 氢能装备", "authority": "工业和信息化部",
            "announcement_number": "工信部公告2024年第12号", "announcement_date": "2024-09-01",
            "valid_from": "2024-09-01", "valid_until": "2099-08-31", "certificate_number": "STT-2024-0012",
            "model": "HFC-1000", "specifications": "额定功率 1 MW；效率 55%", "stock": 3, "stock_unit": "units",
            "lead_time_days": 120,
            "insurance": {"insurer": "中国人民财产保险", "policy_number": "PICC-2024-88",
                          "insured_amount": 12_000_000_00,
                          "premium": 36_000_00, "premium_rate_bp": 300, "period_start": "2024-10-01",
                          "period_end": "2025-09-30", "compensation_status": "qualification"},
        },
    }
    body.update(overrides)
    return body
