"""Deterministic, realistic bilingual achievement listings for the search benchmark (bench/search.py).

Everything comes from one ``random.Random(seed)``, so the same (n, seed) always gives the same rows. About 30% of
listings mention 电池 / battery (the "very common term" of the query mix); ``COMMON_TERM`` names it.
"""
from __future__ import annotations

import json
import random
import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import hall.search.tokenizer as tokenizer
from hall.models import HallIndexEntry
from hall.models.listings import deal_modes_mask
from hall.search import version_text
from hall.search.facet_terms import entry_terms
from hall.services.core.validation import credit_code_check_character

COMMON_TERM = ("电池", "battery")
BASE_TIME = datetime(2026, 11, 1, tzinfo=timezone.utc)

# (Chinese term, English term, field code): the technology a listing is about. The first group is about batteries.
BATTERY_SUBJECTS = [
    ("锂离子电池", "lithium-ion battery", "energy.storage"), ("钠离子电池", "sodium-ion battery", "energy.storage"),
    ("固态电池", "solid-state battery", "energy.storage"), ("全固态电池", "all-solid-state battery", "energy.storage"),
    ("液流电池", "flow battery", "energy.storage"), ("动力电池", "power battery", "energy.storage"),
    ("钙钛矿太阳能电池", "perovskite solar cell battery module", "energy.solar_cells"),
    ("异质结电池", "heterojunction battery cell", "energy.solar_cells"),
    ("氢燃料电池", "hydrogen fuel cell battery", "energy.hydrogen"),
    ("退役动力电池回收", "retired power battery recycling", "manufacturing.circular"),
]
OTHER_SUBJECTS = [
    ("石墨烯", "graphene", "materials.frontier"), ("碳纤维", "carbon fibre", "materials.key_strategic"),
    ("碳化硅", "silicon carbide", "materials.key_strategic"), ("氮化镓", "gallium nitride", "materials.key_strategic"),
    ("氧化镓", "gallium oxide", "materials.key_strategic"), ("高温超导", "high-temperature superconductor",
                                                             "materials.frontier"),
    ("稀土永磁", "rare-earth permanent magnet", "materials.advanced_basic"),
    ("高熵合金", "high-entropy alloy", "materials.advanced_basic"), ("钛合金", "titanium alloy",
                                                                   "materials.advanced_basic"),
    ("气凝胶", "aerogel", "materials.frontier"), ("聚酰亚胺", "polyimide film", "materials.advanced_basic"),
    ("碳纳米管", "carbon nanotube", "materials.frontier"), ("量子点", "quantum dot", "materials.frontier"),
    ("钙钛矿", "perovskite", "energy.solar_cells"), ("电解水制氢", "water electrolysis hydrogen", "energy.hydrogen"),
    ("储氢", "hydrogen storage", "energy.hydrogen"), ("压缩空气储能", "compressed air energy storage",
                                                      "energy.storage"),
    ("飞轮储能", "flywheel energy storage", "energy.storage"), ("可控核聚变", "controlled nuclear fusion",
                                                                "energy.fusion"),
    ("托卡马克", "tokamak", "energy.fusion"), ("小型模块化反应堆", "small modular reactor", "energy.nuclear"),
    ("生物质能", "biomass energy", "energy.biomass"), ("量子计算", "quantum computing", "information.quantum"),
    ("量子通信", "quantum communication", "information.quantum"),
    ("量子密钥分发", "quantum key distribution", "information.quantum"),
    ("量子传感", "quantum sensing", "information.quantum"), ("光子芯片", "photonic chip",
                                                             "information.photonic_computing"),
    ("存算一体", "compute-in-memory", "information.photonic_computing"),
    ("类脑芯片", "neuromorphic chip", "information.brain_like_ai"), ("大模型", "large language model",
                                                                     "information.large_models"),
    ("多模态", "multimodal model", "information.large_models"), ("具身智能", "embodied intelligence",
                                                                "information.brain_like_ai"),
    ("太赫兹", "terahertz", "information.mobile_6g"), ("毫米波", "millimetre wave", "information.mobile_6g"),
    ("卫星互联网", "satellite internet", "information.satellite_internet"),
    ("低轨卫星", "low earth orbit satellite", "information.satellite_internet"),
    ("相控阵", "phased array antenna", "information.satellite_internet"),
    ("人形机器人", "humanoid robot", "manufacturing.intelligent"), ("协作机器人", "collaborative robot",
                                                                    "manufacturing.intelligent"),
    ("数字孪生", "digital twin", "manufacturing.industrial_internet"),
    ("工业互联网", "industrial internet", "manufacturing.industrial_internet"),
    ("边缘计算", "edge computing", "manufacturing.industrial_internet"),
    ("飞秒激光", "femtosecond laser", "manufacturing.laser"), ("超快激光", "ultrafast laser", "manufacturing.laser"),
    ("增材制造", "additive manufacturing", "manufacturing.laser"), ("纳米压印", "nanoimprint lithography",
                                                                  "manufacturing.nano"),
    ("生物制造", "biomanufacturing", "manufacturing.bio"), ("合成生物", "synthetic biology",
                                                           "health.synthetic_biology"),
    ("基因编辑", "gene editing", "health.cell_gene"), ("细胞治疗", "cell therapy", "health.cell_gene"),
    ("mRNA疫苗", "mRNA vaccine", "health.cell_gene"), ("单克隆抗体", "monoclonal antibody", "health.cell_gene"),
    ("分子育种", "molecular breeding", "health.bio_breeding"), ("脑机接口", "brain-computer interface",
                                                               "health.high_end_medical_equipment"),
    ("手术机器人", "surgical robot", "health.high_end_medical_equipment"),
    ("质子治疗", "proton therapy", "health.high_end_medical_equipment"),
    ("可穿戴设备", "wearable device", "health.digital_medical_services"),
    ("无人机集群", "drone swarm", "space.low_altitude_unmanned"), ("激光雷达", "lidar",
                                                                  "space.low_altitude_unmanned"),
    ("深海探测", "deep-sea exploration", "space.deep_sea"), ("潜水器", "submersible", "space.deep_sea"),
    ("可重复使用火箭", "reusable rocket", "space.aerospace"), ("北斗导航", "BeiDou navigation", "space.aerospace"),
    ("航空发动机", "aero-engine", "space.aerospace"), ("深地钻探", "deep earth drilling", "space.deep_earth"),
]
PREFIXES = [("高性能", "High-performance"), ("低成本", "Low-cost"), ("高能量密度", "High energy density"),
            ("大尺寸", "Large-format"), ("柔性", "Flexible"), ("高可靠", "High-reliability"),
            ("新一代", "Next-generation"), ("高效", "High-efficiency"), ("长寿命", "Long-life"), ("智能", "Smart"),
            ("", ""), ("", "")]
SUFFIXES = [("制备技术", "preparation technology"), ("关键技术", "key technology"),
            ("制备方法及装置", "preparation method and apparatus"), ("系统", "system"),
            ("成套装备", "complete equipment"),
            ("产业化技术", "industrialisation technology"), ("工艺与装备", "process and equipment"),
            ("检测方法", "testing method"), ("集成技术", "integration technology"), ("复合材料", "composite material"),
            ("模组", "module"), ("控制平台", "control platform")]
APPLICATIONS = [("复合材料", "composites"), ("传感器", "sensors"), ("散热膜", "thermal films"),
                ("导电剂", "conductive additives"),
                ("芯片", "chips"), ("储能系统", "energy storage systems"), ("医疗器械", "medical devices"),
                ("激光加工", "laser processing"), ("智能电网", "smart grids"), ("新能源汽车", "new energy vehicles"),
                ("工业检测", "industrial inspection"), ("航空航天", "aerospace"), ("数据中心", "data centres")]
PROBLEMS = [("成本高、一致性差", "high cost and poor consistency"),
            ("寿命短、可靠性不足", "short life and poor reliability"),
            ("效率低、能耗高", "low efficiency and high energy use"), ("依赖进口、供应链受限", "reliance on imports"),
            ("工艺复杂、良率低", "complex processes and low yield"), ("安全性不足", "insufficient safety")]
METRICS = [("能量密度", "energy density", "Wh/kg"), ("转换效率", "conversion efficiency", "%"),
           ("循环寿命", "cycle life", "次"), ("导热系数", "thermal conductivity", "W/(m·K)"),
           ("拉伸强度", "tensile strength", "MPa"), ("识别准确率", "recognition accuracy", "%"),
           ("通信速率", "data rate", "Gbps"), ("定位精度", "positioning accuracy", "cm")]
CHAINS = ["材料、器件到系统", "设计、工艺到装备", "算法、软件到平台", "研发、中试到量产", "样机到整机"]
APPLICATIONS += [("柔性显示", "flexible displays"), ("轨道交通", "rail transit"), ("船舶制造", "shipbuilding"),
                 ("电子皮肤", "electronic skin"), ("精准医疗", "precision medicine"), ("智慧农业", "smart farming"),
                 ("光通信", "optical communication"), ("安防监控", "security monitoring"),
                 ("海洋工程", "ocean engineering"),
                 ("核电站", "nuclear power plants"), ("石油化工", "petrochemicals"), ("智能终端", "smart devices")]
PARTNERS = ["宁德时代", "比亚迪", "中国商飞", "国家电网", "中芯国际", "华为", "迈瑞医疗", "中国航天科技集团",
            "隆基绿能", "中国中车"]
STAGES = [("中试验证", "pilot-scale validation"), ("小批量试产", "small-batch trial production"),
          ("示范应用", "demonstration deployment"), ("工程样机研制", "engineering prototype development")]
SCENARIOS = {"energy": ["储能电站", "电动汽车", "分布式光伏", "数据中心备用电源", "电网调峰"],
             "materials": ["航空航天结构件", "电子封装", "新能源汽车轻量化", "高端装备"],
             "information": ["政务专网", "金融加密通信", "智能制造", "自动驾驶", "智慧城市"],
             "manufacturing": ["汽车制造", "精密加工", "电子装配", "智能工厂"],
             "health": ["三甲医院", "康复中心", "生物医药企业", "现代农业"],
             "space": ["应急救援", "海洋资源勘探", "低空物流", "卫星遥感"]}
FUNDING = ["国家重点研发计划", "国家自然科学基金", "省级科技重大专项", "企业自筹"]
SURNAMES, GIVEN = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高", "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀兰霞平刚桂英华"
# (region code, weight): Guangdong (44) and Beijing (11) hold many listings; county, city and province codes mixed.
REGIONS = [("110108", 12), ("110105", 4), ("310104", 8), ("310115", 5), ("440305", 9), ("440106", 4),
           ("440300", 3), ("320102", 5), ("320505", 4), ("330106", 5), ("510107", 4), ("420111", 4),
           ("610113", 3), ("370102", 3), ("340104", 4), ("430104", 3), ("120116", 2), ("500112", 2)]
INSTITUTIONS = [("research_institute", "中国科学院未来材料研究所", "CAS Institute of Future Materials", "110108"),
                ("university", "华东理工科技大学", "East China University of Science and Technology", "310104"),
                ("enterprise", "深圳固态电池科技有限公司", "Shenzhen Solid-State Battery Technology", "440305"),
                ("university", "清华未来产业研究院", "Tsinghua Future Industries Institute", "110108"),
                ("research_institute", "合肥量子信息实验室", "Hefei Quantum Information Lab", "340104"),
                ("enterprise", "西安航天动力科技有限公司", "Xi'an Aerospace Power Technology", "610113"),
                ("university", "浙江智能制造大学", "Zhejiang University of Intelligent Manufacturing", "330106"),
                ("enterprise", "广州生物制造有限公司", "Guangzhou Biomanufacturing Co.", "440106"),
                ("transfer_agency", "长三角技术转移中心", "Yangtze Delta Technology Transfer Centre", "320102"),
                ("research_institute", "武汉光电国家研究中心", "Wuhan National Optoelectronics Centre", "420111"),
                ("university", "成都电子信息大学", "Chengdu University of Electronic Information", "510107"),
                ("enterprise", "苏州纳米科技股份有限公司", "Suzhou Nano Technology Co.", "320505")]
FIRST_OF_KIND = [("equipment", "首台（套）重大技术装备推广应用指导目录"),
                 ("material", "重点新材料首批次应用示范指导目录"),
                 ("software", "首版次高端软件产品目录")]


def institutions() -> list[dict[str, Any]]:
    """The publishing institutions (all verified)."""
    rows = []
    for i, (kind, name_zh, name_en, region) in enumerate(INSTITUTIONS, start=1):
        first17 = f"{'91' if kind == 'enterprise' else '12'}{region}MB{i:07d}"
        rows.append(dict(id=i, kind=kind, name_zh=name_zh, name_en=name_en, region_code=region,
                         credit_code=first17 + credit_code_check_character(first17), verification_status="verified",
                         created_at=BASE_TIME - timedelta(days=1500), updated_at=BASE_TIME - timedelta(days=1500)))
    return rows


def creator() -> dict[str, Any]:
    """The one person who created every listing (no institution, so no membership constraint applies)."""
    return dict(id=1, email="bench@hall.bench", display_name="基准测试", password_hash="!", locale="zh_CN",
                status="active", is_admin=False, created_at=BASE_TIME, password_changed_at=BASE_TIME)


def _sentence_zh(rng: random.Random, zh: str, direction: str) -> str:
    problem, metric, stage = rng.choice(PROBLEMS)[0], rng.choice(METRICS), rng.choice(STAGES)[0]
    app = rng.choice(APPLICATIONS)[0]
    return rng.choice([
        f"本成果针对现有{zh}{problem}的问题，提出了一种新型{zh}制备工艺，"
        f"{metric[0]}达到{rng.randint(10, 900)}{metric[2]}。",
        f"该技术已与{rng.choice(PARTNERS)}合作完成{stage}，可用于{app}和{rng.choice(SCENARIOS[direction])}。",
        f"较现有技术，{metric[0]}提升{rng.randint(5, 80)}%，生产成本降低{rng.randint(5, 50)}%。",
        f"团队掌握{zh}核心专利{rng.randint(2, 30)}项，形成从{rng.choice(CHAINS)}的完整技术链条。",
        f"在{app}领域具有广阔前景，预计年新增产值{rng.randint(1, 50)}亿元。",
    ])


def _sentence_en(rng: random.Random, en: str, direction: str) -> str:
    problem, metric, stage = rng.choice(PROBLEMS)[1], rng.choice(METRICS), rng.choice(STAGES)[1]
    app = rng.choice(APPLICATIONS)[1]
    return rng.choice([
        f"This work addresses the {problem} of current {en} and reaches a {metric[1]} of {rng.randint(10, 900)}.",
        f"Together with an industrial partner the team completed {stage}; the {en} suits {app}.",
        f"Compared with existing solutions the {metric[1]} improves by {rng.randint(5, 80)} percent "
        f"while production costs fall by {rng.randint(5, 50)} percent.",
        f"The team holds {rng.randint(2, 30)} core patents covering materials, devices and systems for {en}.",
        f"Promising markets include {app}, with expected annual output of {rng.randint(1, 50)} hundred million yuan.",
    ])


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _paragraph(rng: random.Random, make: Any, term: str, direction: str, sentences: int, sep: str) -> str:
    return sep.join(make(rng, term, direction) for _ in range(sentences))


def listing(rng: random.Random, listing_id: int, n_institutions: int = len(INSTITUTIONS)) -> dict[str, Any]:
    """One published listing: ``listing`` (row of listings) and ``version`` (row of listing_versions)."""
    battery = rng.random() < 0.22
    zh, en, field = rng.choice(BATTERY_SUBJECTS if battery else BATTERY_SUBJECTS + OTHER_SUBJECTS)
    direction = field.split(".")[0]
    kind = "first_of_kind" if rng.random() < 0.2 else "achievement"
    bilingual = kind == "achievement" and rng.random() < 0.85
    (pre_zh, pre_en), (suf_zh, suf_en) = rng.choice(PREFIXES), rng.choice(SUFFIXES)
    if rng.random() < 0.3:
        app_zh, app_en = rng.choice(APPLICATIONS)
        title_zh, title_en = f"基于{zh}的{pre_zh}{app_zh}{suf_zh}", f"{pre_en} {app_en} {suf_en} based on {en}"
    else:
        title_zh, title_en = f"{pre_zh}{zh}{suf_zh}", f"{pre_en} {en} {suf_en}"
    other = rng.choice(OTHER_SUBJECTS)
    published = BASE_TIME - timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
    price_mode = rng.choices(["fixed", "negotiable", "starting"], [4, 4, 2])[0]
    version: dict[str, Any] = dict(
        id=listing_id, listing_id=listing_id, number=1, review_status="approved", created_by_id=1,
        created_at=published - timedelta(days=rng.randint(3, 60)), updated_at=published,
        title_zh=title_zh, title_en=_cap(title_en.strip()) if bilingual else None,
        summary_zh=_paragraph(rng, _sentence_zh, zh, direction, 2, ""),
        summary_en=_paragraph(rng, _sentence_en, en, direction, 2, " ") if bilingual else None,
        description_zh=_paragraph(rng, _sentence_zh, zh, direction, 4, "")
        + f"该成果还可与{other[0]}技术结合。",
        description_en=(_paragraph(rng, _sentence_en, en, direction, 4, " ")
                        + f" It can be combined with {other[1]}.") if bilingual else None,
        benefit_zh=f"预计可降低成本{rng.randint(5, 60)}%，年新增产值{rng.randint(1, 90)}亿元。",
        benefit_en=f"Costs fall by about {rng.randint(5, 60)} percent." if bilingual else None,
        scenarios_zh="、".join(rng.sample(SCENARIOS[direction], 2)) + "。",
        scenarios_en=None, keywords=[zh, en, other[0]], direction_code=direction, field_code=field,
        region_code=rng.choices([r for r, _ in REGIONS], [w for _, w in REGIONS])[0],
        trl=rng.randint(1, 9) if kind == "achievement" else 9, evaluation=None,
        ip_assets=[{"ip_type": "invention_patent", "number": f"CN20{rng.randint(15, 25)}1{rng.randint(0, 10**7):07d}.X",
                    "legal_status": "granted", "title": f"一种{zh}的制备方法"} for _ in range(rng.randint(0, 2))],
        inventors=[rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2)))
                   for _ in range(rng.randint(1, 4))],
        deal_modes=(rng.sample(["transfer", "exclusive_license", "sole_license", "non_exclusive_license", "equity",
                                "joint_development", "technical_service"], rng.randint(1, 3))
                    if kind == "achievement" else ["purchase"]),
        price_mode=price_mode, price_amount=None if price_mode == "negotiable" else rng.randint(10, 5000) * 10_000_00,
        currency="CNY", state_funded=rng.random() < 0.4, funding_source=rng.choice(FUNDING),
        product_kind=None, recognition_level=None, first_of_kind=None)
    if kind == "first_of_kind":
        product_kind, catalogue = rng.choice(FIRST_OF_KIND)
        level = rng.choices(["national", "provincial", "international"], [3, 6, 1])[0]
        version.update(product_kind=product_kind, recognition_level=level, first_of_kind={
            "product_kind": product_kind, "recognition_level": level, "catalogue": catalogue,
            "catalogue_item": f"{rng.randint(1, 9)}.{rng.randint(1, 20)} {zh}", "model": f"HX-{rng.randint(100, 9999)}",
            "specifications": f"{rng.choice(METRICS)[0]} {rng.randint(10, 900)}"})
    row = dict(id=listing_id, institution_id=rng.randint(1, n_institutions), kind=kind, status="published",
               lock_version=1, created_by_id=1, created_at=version["created_at"], updated_at=published,
               submitted_at=published - timedelta(days=1), published_at=published,
               expires_at=published + timedelta(days=365))
    return {"listing": row, "version": version}


def listings(first_id: int, count: int, seed: int) -> list[dict[str, Any]]:
    """Listings with ids first_id .. first_id+count-1; each from its own ``Random``, so batches can be made in any
    order or process and still give the same rows."""
    return [listing(random.Random(seed * 100_000_007 + i), i) for i in range(first_id, first_id + count)]


class _Version:
    """Just enough of a ListingVersion for ``_version_tokens`` (no session needed)."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)

    def text(self, name: str, lang: str) -> str | None:
        return self.__dict__.get(f"{name}_{lang}")


TEXT_COLUMNS = ("title_tokens", "keyword_tokens", "body_tokens", "taxonomy_tokens", "gram_tokens", "facet_tokens")
TAXONOMY_FILE = Path(__file__).resolve().parents[1] / "migrations" / "data" / "future_industries_2024.json"


@lru_cache(maxsize=1)
def taxonomy_names() -> dict[str, str]:
    """What ``hall.search.taxonomy_names`` reads from the database, from the file the migration loads it from."""
    data = json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))
    nodes = [node for d in data["directions"] for node in (d, *d["fields"])]
    return {node["code"]: f"{node['zh']} {node['en']}" for node in nodes}


def index_row(item: dict[str, Any]) -> dict[str, Any]:
    """The hall_index and hall_text columns ``hall.search.index_listing`` would write for this published listing
    (same tokens), in one dict: ``split_index_row`` parts them."""
    v, row = item["version"], item["listing"]
    text = version_text(_Version(v), taxonomy_names())  # type: ignore[arg-type]
    entry = dict(listing_id=row["id"], version_id=v["id"], institution_id=row["institution_id"], kind=row["kind"],
                 direction_code=v["direction_code"], field_code=v["field_code"], region_code=v["region_code"],
                 trl=v["trl"], deal_modes_mask=deal_modes_mask(v["deal_modes"]), price_mode=v["price_mode"],
                 price_amount=v["price_amount"], currency=v["currency"], state_funded=v["state_funded"],
                 product_kind=v["product_kind"], recognition_level=v["recognition_level"],
                 published_at=row["published_at"])
    return dict(entry, **text, facet_tokens=entry_terms(HallIndexEntry(**entry)))


def split_index_row(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(hall_index row, hall_text row) of an ``index_row``."""
    text = {"listing_id": row["listing_id"], **{column: row[column] for column in TEXT_COLUMNS}}
    return {key: value for key, value in row.items() if key not in TEXT_COLUMNS}, text


class MemoStemmer:
    """The app's Snowball stemmer, memoised: identical stems (the pure-Python stemmer costs ~30 µs a word)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.cache = inner, {}

    def stemWord(self, word: str) -> str:  # noqa: N802  (snowballstemmer's API)
        stem = self.cache.get(word)
        if stem is None:
            stem = self.cache[word] = self.inner.stemWord(word)
        return stem

    def stemWords(self, words: list[str]) -> list[str]:  # noqa: N802
        return [self.stemWord(word) for word in words]


def use_memo_stemmer() -> Any:
    """Swap the tokenizer's stemmer for a memoised one; returns the original getter (to put back)."""
    real = tokenizer._stemmer
    memo = MemoStemmer(real())
    tokenizer._stemmer = lambda: memo  # type: ignore[assignment]
    return real


def tokenizer_cost(seed: int, sample: int = 1000) -> dict[str, Any]:
    """µs per listing for the app's own tokenizer and for the memoised one; asserts identical tokens."""
    items = listings(1, sample, seed)
    t0 = time.perf_counter()
    plain = [index_row(item) for item in items]
    t1 = time.perf_counter()
    real = use_memo_stemmer()
    try:
        memo = [index_row(item) for item in items]
        t2 = time.perf_counter()
        memo = [index_row(item) for item in items]  # warm cache, as in a long load
        t3 = time.perf_counter()
    finally:
        tokenizer._stemmer = real
    assert memo == plain, "memoised stemming changed the tokens"
    return {"app_us_per_listing": round((t1 - t0) / sample * 1e6, 1),
            "memo_us_per_listing": round((t3 - t2) / sample * 1e6, 1), "memo_identical": True}


def make_batch(task: tuple[int, int, int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], float, float]:
    """(In a worker process.) Listings first..first+count-1 and their hall_index rows, with the seconds each took."""
    first, count, seed = task
    t0 = time.perf_counter()
    items = listings(first, count, seed)
    t1 = time.perf_counter()
    index = [index_row(item) for item in items]
    return items, index, t1 - t0, time.perf_counter() - t1
