"""Demo listings: bilingual achievements and first-of-kind products across the six directions, published."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hall.extensions import db
from hall.models import ListingVersion, User
from hall.services.core.validation import patent_check_character
from hall.services.publishing import listing_review, listings


def patent(year: int, kind_digit: int, serial: int) -> str:
    """A well-formed CN application number (the check character computed)."""
    digits = f"{year}{kind_digit}{serial:07d}"
    return f"CN{digits}.{patent_check_character(digits)}"


# owner e-mail, field code, TRL, deal modes, price (yuan, None = negotiable), zh texts, en texts, keywords
ACHIEVEMENTS: tuple[tuple[Any, ...], ...] = (
    ("owner@ifm.demo", "materials.key_strategic", 7, ["transfer", "exclusive_license"], 8_000_000,
     ("T1000 级高性能碳纤维连续化制备技术", "突破 T1000 级碳纤维原丝纺丝与碳化关键工艺，实现千吨级连续化生产。",
      "采用干喷湿纺工艺，拉伸强度 6.4 GPa，离散系数低于 5%。配套上浆剂与表面处理工艺已完成中试验证。",
      "强度比 T800 级提高 15%，成本比进口产品低 30%。", "航空航天结构件、压力容器、高端体育器材。"),
     ("Continuous production of T1000-grade carbon fibre", "Spinning and carbonisation process for T1000-grade "
      "carbon fibre at thousand-tonne scale.", "Dry-jet wet spinning reaches 6.4 GPa tensile strength with a "
      "coefficient of variation below 5%.", "15% stronger than T800 grade at 30% below the import price.",
      "Aerospace structures, pressure vessels, sports equipment."), ["碳纤维", "carbon fibre"]),
    ("owner@ifm.demo", "materials.frontier", 4, ["joint_development", "non_exclusive_license"], None,
     ("液氮温区铁基超导带材制备方法", "一种高临界电流密度铁基超导带材的粉末装管制备方法。",
      "通过热压致密化，77 K 下临界电流密度达到 1.5×10^5 A/cm²。", "成本低于钇系涂层导体。",
      "超导电缆、磁共振成像、可控核聚变磁体。"), None, ["超导材料", "superconductor"]),
    ("owner@univ.demo", "energy.solar_cells", 6, ["exclusive_license", "equity"], 12_000_000,
     ("钙钛矿/晶硅叠层太阳能电池", "效率 33.1% 的钙钛矿晶硅叠层电池及其封装工艺。",
      "宽带隙钙钛矿顶电池与异质结底电池叠层，1 cm² 器件认证效率 33.1%，85℃/85% 湿热 1000 小时衰减小于 5%。",
      "比单结晶硅电池效率高 6 个百分点。", "光伏电站、建筑光伏一体化。"),
     ("Perovskite/silicon tandem solar cell", "A 33.1%-efficient perovskite-silicon tandem cell and its "
      "encapsulation.", "Wide-bandgap perovskite top cell on a heterojunction bottom cell; certified 33.1% on "
      "1 cm²; under 5% loss after 1000 h damp heat.", "Six points more efficient than single-junction silicon.",
      "Utility PV plants, building-integrated PV."), ["钙钛矿", "perovskite", "叠层电池"]),
    ("owner@univ.demo", "information.quantum", 5, ["non_exclusive_license", "technical_service"], 3_000_000,
     ("城域量子密钥分发网络组网技术", "支持百节点规模的城域量子密钥分发网络可信中继组网方案。",
      "基于诱骗态 BB84 协议，单链路 50 km 成码率 10 kbps，配套密钥管理系统。", "组网成本降低 40%。",
      "政务专网、金融数据中心互联。"),
     ("Metropolitan quantum key distribution network", "Trusted-relay networking for metropolitan QKD with "
      "a hundred nodes.", "Decoy-state BB84; 10 kbps secure key rate over 50 km per link; key management "
      "included.", "Cuts network cost by 40%.", "Government networks, bank data-centre links."),
     ["量子通信", "quantum key distribution"]),
    ("owner@ssb.demo", "energy.storage", 8, ["transfer", "non_exclusive_license"], 20_000_000,
     ("高安全硫化物全固态电池", "能量密度 400 Wh/kg 的硫化物全固态锂电池电芯与制造工艺。",
      "硫化物电解质离子电导率 12 mS/cm，电芯通过针刺、过充、热箱测试。", "不起火不爆炸，能量密度提升 40%。",
      "电动汽车、储能电站、低空飞行器。"),
     ("High-safety sulfide all-solid-state battery", "A 400 Wh/kg sulfide all-solid-state lithium cell and its "
      "manufacturing process.", "Electrolyte conductivity 12 mS/cm; cells pass nail, overcharge and hot-box "
      "tests.", "No fire, no explosion, 40% more energy.", "Electric vehicles, grid storage, eVTOL aircraft."),
     ["固态电池", "solid-state battery", "锂离子电池"]),
    ("owner@eval.demo", "health.high_end_medical_equipment", 6, ["exclusive_license", "joint_development"], None,
     ("非侵入式脑机接口康复训练系统", "基于高密度脑电的脑机接口上肢康复训练系统。",
      "64 导干电极脑电采集，运动想象识别准确率 92%，配套外骨骼。", "康复周期缩短 30%。",
      "卒中康复、脊髓损伤康复。"),
     ("Non-invasive brain-computer interface for rehabilitation", "High-density EEG brain-computer interface "
      "for upper-limb rehabilitation.", "64-channel dry-electrode EEG; 92% motor-imagery accuracy; with an "
      "exoskeleton.", "Shortens rehabilitation by 30%.", "Stroke and spinal-cord-injury rehabilitation."),
     ["脑机接口", "brain-computer interface"]),
    ("owner@ttc.demo", "manufacturing.laser", 7, ["transfer", "technical_service"], 4_500_000,
     ("飞秒激光精密微孔加工技术", "航空发动机叶片气膜孔飞秒激光无重铸层加工工艺。",
      "孔径 0.2–1 mm，无重铸层、无微裂纹，加工效率每孔 8 秒。", "替代电火花加工，寿命提升 2 倍。",
      "航空发动机、燃气轮机叶片。"), None, ["飞秒激光", "femtosecond laser"]),
    ("owner@ttc.demo", "space.low_altitude_unmanned", 6, ["non_exclusive_license", "joint_development"], 2_000_000,
     ("无人机集群协同感知与避障算法", "面向城市低空的百架级无人机集群协同感知与实时避障算法。",
      "分布式视觉惯性定位，100 架集群编队误差小于 0.5 m。", "通信带宽需求降低 60%。", "低空物流、巡检、应急救援。"),
     ("Cooperative perception for drone swarms", "Swarm perception and real-time obstacle avoidance for "
      "a hundred drones in urban airspace.", "Distributed visual-inertial localisation with formation error under "
      "0.5 m.", "Needs 60% less bandwidth.", "Low-altitude logistics, inspection, rescue."),
     ["无人机集群", "drone swarm"]),
    ("owner@univ.demo", "health.synthetic_biology", 5, ["equity", "joint_development"], None,
     ("合成生物法生产依克多因", "利用工程菌株高效合成依克多因的发酵与分离纯化工艺。",
      "发酵产量 35 g/L，纯度 99.5%，生产成本比化学提取低 50%。", "绿色低碳，成本减半。", "化妆品、医药原料。"),
     ("Ectoine by synthetic biology", "Fermentation and purification of ectoine with an engineered strain.",
      "35 g/L titre, 99.5% purity, half the cost of extraction.", "Greener and half the cost.",
      "Cosmetics, pharmaceutical ingredients."), ["合成生物", "synthetic biology"]),
)

# owner e-mail, field code, product kind, level, model, unit price (yuan), stock, zh texts, en texts or None
PRODUCTS: tuple[tuple[Any, ...], ...] = (
    ("owner@ssb.demo", "energy.hydrogen", "equipment", "national", "HFC-1000", 12_000_000, 3,
     ("兆瓦级氢燃料电池分布式发电系统", "国内首台兆瓦级氢燃料电池分布式发电系统。",
      "额定功率 1 MW，发电效率 55%，支持热电联供。", "效率比进口设备高 5 个百分点，价格低 30%。",
      "工业园区、数据中心备用电源。"),
     ("Megawatt hydrogen fuel-cell power system", "China's first megawatt distributed hydrogen fuel-cell power "
      "system.", "1 MW rated, 55% electrical efficiency, combined heat and power.", "Five points more efficient "
      "than imports at 30% lower price.", "Industrial parks, data-centre backup power.")),
    ("owner@ifm.demo", "materials.key_strategic", "material", "national", "SiC-8in-N", 9_800, 500,
     ("8 英寸导电型碳化硅衬底", "首批次 8 英寸导电型碳化硅单晶衬底。",
      "微管密度小于 0.1 个/cm²，电阻率 0.015–0.025 Ω·cm。", "打破进口垄断，价格低 25%。",
      "新能源汽车功率器件、光伏逆变器。"),
     ("8-inch conductive silicon carbide substrate", "First batch of 8-inch conductive SiC single-crystal "
      "substrates.", "Micropipe density below 0.1/cm²; resistivity 0.015–0.025 Ω·cm.", "Ends import dependence "
      "at 25% lower price.", "EV power devices, PV inverters.")),
    ("owner@ttc.demo", "information.large_models", "software", "provincial", "IndusGPT 1.0", 600_000, 100,
     ("工业大模型智能运维软件 V1.0", "首版次工业设备智能运维大模型软件。",
      "基于百亿参数行业大模型，故障诊断准确率 95%，支持私有化部署。", "运维成本降低 35%。",
      "钢铁、化工、电力设备运维。"), None),
)


def _texts(zh: tuple[str, ...], en: tuple[str, ...] | None) -> dict[str, Any]:
    names = ("title", "summary", "description", "benefit", "scenarios")
    data = {f"{name}_zh": text for name, text in zip(names, zh)}
    if en:
        data.update({f"{name}_en": text for name, text in zip(names, en)})
    return data


def _publish(admin: User, owner: User, kind: str, content: dict[str, Any]) -> None:
    listing = listings.create_draft(owner, kind, content)
    listings.submit_listing(owner, listing.id)
    listing_review.decide(admin, listing.id, "approve")


def _exists(title_zh: str) -> bool:
    return db.session.scalar(select(ListingVersion.id).where(ListingVersion.title_zh == title_zh).limit(1)) is not None


def seed_demo_listings(admin: User) -> int:
    """Publish the demo listings that are not there yet; returns how many were added."""
    from hall.services.accounts.accounts import find_user_by_email

    added = 0
    for index, (email, field, trl, modes, price, zh, en, keywords) in enumerate(ACHIEVEMENTS):
        if _exists(zh[0]):
            continue
        owner = find_user_by_email(email)
        assert owner is not None and owner.institution is not None  # the demo accounts are seeded first
        content = _texts(zh, en) | {
            "keywords": keywords, "direction_code": field.split(".")[0], "field_code": field,
            "region_code": owner.institution.region_code, "trl": trl, "deal_modes": modes,
            "price_mode": "fixed" if price else "negotiable", "price_amount": price * 100 if price else None,
            "state_funded": owner.institution.kind in ("research_institute", "university"),
            "inventors": ["张明", "陈静"],
            "ip_assets": [{"ip_type": "invention_patent", "number": patent(2021 + index % 3, 1, 100_000 + index),
                           "legal_status": "granted", "title": zh[0], "expiry_date": "2041-06-30"}],
        }
        _publish(admin, owner, "achievement", content)
        added += 1
    for email, field, product_kind, level, model, price, stock, zh, en in PRODUCTS:
        if _exists(zh[0]):
            continue
        owner = find_user_by_email(email)
        assert owner is not None and owner.institution is not None  # the demo accounts are seeded first
        content = _texts(zh, en) | {
            "keywords": [zh[0][:6]], "direction_code": field.split(".")[0], "field_code": field,
            "region_code": owner.institution.region_code, "deal_modes": ["purchase"], "price_mode": "fixed",
            "price_amount": price * 100,
            "first_of_kind": {
                "product_kind": product_kind, "recognition_level": level,
                "catalogue": "首台（套）/首批次/首版次推广应用目录",
                "catalogue_edition": "2024", "catalogue_item": zh[0], "authority": "工业和信息化部",
                "announcement_number": "2024-第15号", "announcement_date": "2024-10-15", "valid_from": "2024-10-15",
                "valid_until": "2027-10-14", "certificate_number": f"FOK-2024-{model}", "model": model,
                "specifications": zh[2], "stock": stock, "stock_unit": "units" if product_kind != "material" else
                "batches", "lead_time_days": 90},
        }
        _publish(admin, owner, "first_of_kind", content)
        added += 1
    return added
