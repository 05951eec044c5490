"""Suggested category and responsible city departments for a measure, from its wording.

These are *suggestions* for the office to confirm, never decisions: each comes with a score
(sum of the weights of the keywords found; a keyword in the title counts ``TITLE_WEIGHT``
times) and the keywords that produced it. The whole knowledge is the two tables below, so an
office can adjust them in one place.
"""

from __future__ import annotations

from typing import Any

TITLE_WEIGHT = 3
MIN_SCORE = 2  # below this the category is "other"

CATEGORY_LABELS: dict[str, str] = {
    "water": "水",
    "air": "大气",
    "soil": "土壤",
    "heavy_metals": "重金属",
    "mines": "矿山",
    "rural_nonpoint": "农村面源",
    "biodiversity_ecology": "生物多样性与生态",
    "infrastructure": "基础设施",
    "industrial_parks": "工业园区",
    "mechanisms_thinking": "机制与思想认识",
    "other": "其他",
}

# category → {keyword: weight}
CATEGORY_KEYWORDS: dict[str, dict[str, int]] = {
    "water": {"水污染": 3, "水质": 2, "饮用水": 3, "水源": 2, "黑臭水体": 2, "入河排污口": 3, "河湖": 2,
              "流域": 1, "水生态": 2, "断面": 2, "水环境": 2, "河长": 2, "水资源": 2, "排污口": 2, "湖泊": 2,
              "水库": 2, "生态流量": 2},
    "air": {"大气": 3, "空气": 3, "扬尘": 3, "臭氧": 3, "机动车": 3, "移动源": 2, "VOCs": 3, "VOCS": 3,
            "挥发性有机物": 3, "NOx": 2, "重污染天气": 3, "油烟": 2, "秸秆燃烧": 2, "颗粒物": 3, "PM2.5": 3,
            "燃煤": 2, "锅炉": 2, "柴油货车": 3, "尾气": 3, "排放标准": 1, "碳达峰": 2, "碳排放": 2, "温室气体": 2, "低碳": 1},
    "soil": {"土壤": 3, "耕地": 2, "农用地": 2, "建设用地": 2, "污染地块": 3, "地下水": 2, "无废城市": 2,
             "固体废物": 2, "固废": 2, "危险废物": 2},
    "heavy_metals": {"重金属": 4, "涉镉": 3, "镉": 2, "铅": 2, "砷": 2, "汞": 2, "涉重": 3, "铊": 3, "铉": 2,
                     "重金属渣": 3, "锰": 2},
    "mines": {"矿山": 4, "尾矿": 3, "砂石土矿": 3, "采矿": 3, "绿色矿山": 3, "矿业": 3, "废弃矿": 3, "露天开采": 3},
    "rural_nonpoint": {"农村": 3, "农业": 2, "面源": 3, "养殖": 3, "畜禽": 3, "秸秆": 2, "化肥": 2, "农药": 2,
                       "种植": 1, "水产": 1, "施肥": 2},
    "biodiversity_ecology": {"生物多样性": 4, "野生动植物": 3, "野生动物": 3, "自然保护地": 3, "湿地": 3,
                             "森林": 3, "生态修复": 2, "国家公园": 3, "禁渔": 3, "外来入侵": 3, "生态保护红线": 2,
                             "山水林田湖草": 3, "自然保护区": 3, "生态廊道": 2, "绿盾": 2, "水生生物": 2},
    "infrastructure": {"污水处理": 3, "管网": 3, "垃圾": 3, "基础设施": 4, "雨污": 3, "设施建设": 2,
                       "焚烧": 2, "污水收集": 3, "处理设施": 2, "项目建设": 2, "环保项目": 2},
    "industrial_parks": {"园区": 4, "工业": 2, "产业结构": 3, "企业": 1, "高耗能": 2, "落后产能": 3,
                         "清洁生产": 3, "产业转型": 3, "两高": 3, "排污许可": 1},
    "mechanisms_thinking": {"思想": 3, "学习": 2, "政治": 2, "讲话": 2, "指示批示": 3, "责任": 1, "机制": 2,
                            "制度": 1, "体系": 1, "执法": 2, "考核": 2, "督察": 1, "宣传": 2, "资金": 2,
                            "能力建设": 2, "监测": 1, "体制": 2, "战略": 1, "法规": 1, "信用": 1, "全民": 1},
}

# city department → {keyword: weight}; the department names follow a typical prefecture-level city.
UNIT_KEYWORDS: dict[str, dict[str, int]] = {
    "市生态环境局": {"大气": 3, "扬尘": 2, "机动车": 2, "臭氧": 3, "VOCs": 3, "VOCS": 3, "重污染天气": 3,
                "监测": 2, "执法": 2, "排污许可": 3, "入河排污口": 3, "饮用水水源": 2, "重金属": 2, "土壤": 2,
                "危险废物": 3, "固体废物": 2, "核与辐射": 3, "环境风险": 2, "环境应急": 3, "督察": 1,
                "污染防治": 2, "无废城市": 2, "生态环境损害赔偿": 2, "移动源": 2, "温室气体": 1,
                "柴油货车": 2, "尾气": 2, "燃煤锅炉": 2, "尾矿库": 2},
    "市自然资源和规划局": {"矿山": 4, "尾矿": 1, "砂石土矿": 3, "采矿": 3, "绿色矿山": 3, "国土空间": 3,
                   "生态保护红线": 2, "用地": 1, "废弃矿": 3, "地质": 2},
    "市农业农村局": {"秸秆": 3, "养殖": 3, "畜禽": 3, "化肥": 3, "农药": 3, "农用地": 2, "耕地": 2,
               "禁渔": 3, "水产": 2, "农业": 2, "农村": 1, "种植": 2, "面源": 2, "施肥": 3},
    "市林业局": {"森林": 4, "湿地": 3, "自然保护地": 3, "野生动植物": 3, "野生动物": 3, "国家公园": 3,
             "自然保护区": 3, "生物多样性": 2, "外来入侵": 2, "绿盾": 2, "林地": 3},
    "市住房和城乡建设局": {"污水": 3, "管网": 4, "黑臭水体": 3, "雨污": 3, "施工扬尘": 3, "污水处理": 3,
                   "绿色建筑": 2, "城镇": 1, "建筑": 1},
    "市城市管理和综合执法局": {"生活垃圾": 3, "垃圾分类": 3, "垃圾焚烧": 3, "餐饮油烟": 3, "道路扬尘": 2,
                      "垃圾": 2},
    "市水利局": {"河湖": 3, "水库": 3, "河长": 3, "水资源": 3, "节水": 3, "生态流量": 3, "小水电": 3,
             "岸线": 2, "水土保持": 3, "水生态": 1},
    "市工业和信息化局": {"园区": 3, "工业": 3, "产业结构": 2, "高耗能": 2, "落后产能": 3, "清洁生产": 2,
                  "化工": 2, "产业转型": 2, "企业": 1},
    "市发展和改革委员会": {"碳达峰": 3, "碳排放": 3, "能源": 2, "低碳": 2, "产业结构": 1, "项目储备": 2,
                   "生态产品价值": 2, "项目资金": 1, "高耗能": 1},
    "市交通运输局": {"交通": 2, "机动车": 1, "道路": 1, "港口": 2, "船舶": 3},
    "市财政局": {"资金": 3, "财政": 3, "转移支付": 3, "投入": 1},
    "市委宣传部": {"宣传": 3, "学习": 1, "思想": 1, "教育": 1, "舆论": 2, "曝光": 1},
    "市委办公室": {"讲话": 2, "指示批示": 3, "思想": 2, "学习": 2, "政治": 1},
    "市纪委监委": {"追责": 3, "问责": 3, "纪律": 2, "纪检": 3},
    "市公安局": {"犯罪": 3, "刑事": 3, "机动车": 1, "路检路查": 2},
    "市市场监督管理局": {"锅炉": 2, "油品": 3, "特种设备": 2},
    "市卫生健康委员会": {"医疗废物": 3, "健康": 1},
}


def _score(title: str, text: str, table: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    results = []
    for name, keywords in table.items():
        score = 0
        matched = []
        for keyword, weight in keywords.items():
            in_title, in_text = keyword in title, keyword in text
            if in_title or in_text:
                score += weight * (TITLE_WEIGHT if in_title else 1)
                matched.append(keyword)
        if score:
            results.append({"name": name, "score": score, "matched": matched})
    results.sort(key=lambda r: (-r["score"], r["name"]))
    return results


def suggest_category(title: str, text: str) -> dict[str, Any]:
    ranked = _score(title, text, CATEGORY_KEYWORDS)
    if not ranked or ranked[0]["score"] < MIN_SCORE:
        return {"code": "other", "label": CATEGORY_LABELS["other"], "score": 0, "matched": [],
                "alternatives": [], "suggestion": True}
    best = ranked[0]
    return {
        "code": best["name"],
        "label": CATEGORY_LABELS[best["name"]],
        "score": best["score"],
        "matched": best["matched"],
        "alternatives": [{"code": r["name"], "label": CATEGORY_LABELS[r["name"]], "score": r["score"]}
                         for r in ranked[1:3]],
        "suggestion": True,
    }


def suggest_units(title: str, text: str, limit: int = 3) -> list[dict[str, Any]]:
    ranked = _score(title, text, UNIT_KEYWORDS)
    return [{"unit": r["name"], "score": r["score"], "matched": r["matched"], "suggestion": True}
            for r in ranked[:limit] if r["score"] >= MIN_SCORE]
