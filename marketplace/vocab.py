"""The closed vocabularies shared by the whole product.

Profile attributes, article categories and shop categories are closed sets so that targeting,
recommender features and audience reports all speak the same language. Sensitive attributes
(health conditions, religion, politics, nationality, income) are deliberately absent: an
attribute that is not in these sets cannot be stored, targeted or reported.
"""

from __future__ import annotations

import enum
from typing import Final


class AgeBand(enum.StrEnum):
    UNDER_20 = "0-19"
    AGE_20S = "20-29"
    AGE_30S = "30-39"
    AGE_40S = "40-49"
    AGE_50S = "50-59"
    AGE_60S = "60-69"
    AGE_70_PLUS = "70+"


class Household(enum.StrEnum):
    SINGLE = "single"
    COUPLE = "couple"
    YOUNG_CHILDREN = "young_children"
    SCHOOL_CHILDREN = "school_children"
    THREE_GENERATION = "three_generation"
    ELDERLY_ONLY = "elderly_only"


# How residents and shops read the profile codes (English in portal_plugin/locale/en).
AGE_BAND_LABELS: Final[dict[str, str]] = {
    AgeBand.UNDER_20: "20歳未満",
    AgeBand.AGE_20S: "20代",
    AgeBand.AGE_30S: "30代",
    AgeBand.AGE_40S: "40代",
    AgeBand.AGE_50S: "50代",
    AgeBand.AGE_60S: "60代",
    AgeBand.AGE_70_PLUS: "70歳以上",
}
HOUSEHOLD_LABELS: Final[dict[str, str]] = {
    Household.SINGLE: "単身",
    Household.COUPLE: "夫婦のみ",
    Household.YOUNG_CHILDREN: "未就学児のいる世帯",
    Household.SCHOOL_CHILDREN: "小中学生のいる世帯",
    Household.THREE_GENERATION: "三世代",
    Household.ELDERLY_ONLY: "高齢者のみ",
}


class ArticlePriority(enum.StrEnum):
    NORMAL = "normal"
    IMPORTANT = "important"
    URGENT = "urgent"


class Language(enum.StrEnum):
    JA = "ja"
    EN = "en"


class ShopStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class StaffRole(enum.StrEnum):
    REVIEWER = "reviewer"
    FINANCE = "finance"
    ADMIN = "admin"


class InteractionKind(enum.StrEnum):
    VIEW = "view"
    CLICK = "click"


# About 15 districts of Aizu-Wakamatsu, in romanised form so that ids stay ASCII.
DISTRICTS: Final[dict[str, str]] = {
    "tsuruga": "鶴城",
    "nisshin": "日新",
    "wakamatsu-daiichi": "若松第一",
    "wakamatsu-daini": "若松第二",
    "wakamatsu-daisan": "若松第三",
    "wakamatsu-daiyon": "若松第四",
    "wakamatsu-daigo": "若松第五",
    "kita-aizu": "北会津",
    "kawahigashi": "河東",
    "minato": "湊",
    "ohto": "大戸",
    "higashiyama": "東山",
    "ikki": "一箕",
    "monden": "門田",
    "takada": "高野",
}

ARTICLE_CATEGORIES: Final[tuple[str, ...]] = (
    "子育て",
    "健康・医療",
    "除雪",
    "防災",
    "観光",
    "イベント",
    "学校",
    "ごみ・環境",
    "行政手続き",
    "福祉・介護",
    "スポーツ・文化",
)

# Interests residents can opt in to; they mirror article categories plus portal gadgets.
INTERESTS: Final[tuple[str, ...]] = ARTICLE_CATEGORIES

GADGETS: Final[dict[str, str]] = {
    "snow-plough": "除雪車ナビ",
    "maternal-health": "母子健康情報サービス",
    "aizukko-plus": "あいづっこプラス",
}

SHOP_CATEGORIES: Final[dict[str, str]] = {
    "restaurant": "飲食店",
    "sake-brewery": "酒蔵・酒販",
    "confectionery": "菓子・土産",
    "lacquerware": "会津塗・工芸",
    "retail": "小売",
    "beauty": "美容・理容",
    "clinic": "医院・薬局",
    "childcare": "保育・習い事",
    "education": "学習塾",
    "real-estate": "不動産・住宅",
    "auto": "自動車",
    "construction": "建設・リフォーム",
    "hotel": "旅館・ホテル",
    "services": "生活サービス",
    "agriculture": "農産物直売",
}
