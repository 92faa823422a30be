"""The one place where every vocabulary code a shop or staff member could read gets its label.

Codes (`young_children`, `approved`, `feed-3`, `booking_confirmed`) are for the database and the
API; pages show the Japanese label, translated to English by the `.po` catalogue
(portal_plugin/locale/en/labels.po). Templates call `label(value)` for an enum member and
`label(value, "vocabulary")` for a plain string code; tests/portal_plugin/test_labels.py checks
that every member of every vocabulary has a label with its English, and the seeded-world test in
tests/proof/test_vocabulary_pages.py that no page shows a code instead.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from analytics.allocation import AllocationMethod
from billing.models.bank import BankTransactionStatus
from billing.models.invoices import DocumentKind, PaymentMethod
from billing.models.payments import PaymentStatus, RefundStatus
from marketplace.delivery.house import Surface
from marketplace.delivery.shortfall import CAUSE_TEXT, Cause
from marketplace.house_ads.services import STATUS_LABELS as HOUSE_AD_STATUS_LABELS
from marketplace.house_ads.services import HouseAdStatus
from marketplace.inventory.targeting import DIMENSION_LABELS
from marketplace.lifecycle import (
    ActorKind,
    BookingStatus,
    CreativeKind,
    CreativeStatus,
    PlacementKind,
    ShopUserRole,
)
from marketplace.vocab import (
    AGE_BAND_LABELS,
    DISTRICTS,
    HOUSEHOLD_LABELS,
    SHOP_CATEGORIES,
    AgeBand,
    Household,
    ShopStatus,
    StaffRole,
)
from portal_plugin.i18n import gettext

BOOKING_STATUS_LABELS: Final[Mapping[str, str]] = {
    BookingStatus.DRAFT: "下書き",
    BookingStatus.HELD: "仮押さえ中",
    BookingStatus.EXPIRED: "仮押さえ期限切れ",
    BookingStatus.IN_REVIEW: "素材審査中",
    BookingStatus.APPROVED: "承認済み",
    BookingStatus.SCHEDULED: "掲載予定",
    BookingStatus.LIVE: "掲載中",
    BookingStatus.COMPLETED: "掲載終了",
    BookingStatus.REJECTED: "不承認",
    BookingStatus.PAUSED: "一時停止中",
    BookingStatus.CANCELLED: "キャンセル済み",
}
CREATIVE_STATUS_LABELS: Final[Mapping[str, str]] = {
    CreativeStatus.DRAFT: "下書き",
    CreativeStatus.IN_REVIEW: "審査中",
    CreativeStatus.APPROVED: "承認済み(掲載可)",
    CreativeStatus.REJECTED: "差し戻し",
    CreativeStatus.SUPERSEDED: "旧版",
}

# Enum vocabularies: the label of a member is found by its class.
ENUM_LABELS: Final[Mapping[type[enum.Enum], Mapping[str, str]]] = {
    AgeBand: AGE_BAND_LABELS,
    Household: HOUSEHOLD_LABELS,
    BookingStatus: BOOKING_STATUS_LABELS,
    CreativeStatus: CREATIVE_STATUS_LABELS,
    HouseAdStatus: {status.value: text for status, text in HOUSE_AD_STATUS_LABELS.items()},
    ShopStatus: {
        ShopStatus.PENDING: "承認待ち",
        ShopStatus.APPROVED: "承認済み",
        ShopStatus.SUSPENDED: "停止中",
        ShopStatus.CLOSED: "退会済み",
    },
    StaffRole: {
        StaffRole.REVIEWER: "審査担当",
        StaffRole.FINANCE: "会計担当",
        StaffRole.ADMIN: "管理者",
    },
    ShopUserRole: {ShopUserRole.OWNER: "代表者", ShopUserRole.STAFF: "店舗スタッフ"},
    ActorKind: {ActorKind.STAFF: "職員", ActorKind.SHOP: "店舗", ActorKind.SYSTEM: "システム"},
    PlacementKind: {
        PlacementKind.IN_FEED: "フィード内カード",
        PlacementKind.SIDE_GADGET: "ガジェット欄のカード",
    },
    CreativeKind: {CreativeKind.AD: "広告", CreativeKind.FLYER: "チラシ"},
    Cause: {cause.value: text for cause, text in CAUSE_TEXT.items()},
    Surface: {Surface.FEED: "おすすめ記事の欄", Surface.SIDE: "ガジェット欄"},
    DocumentKind: {DocumentKind.INVOICE: "請求書", DocumentKind.CREDIT_NOTE: "返金伝票"},
    PaymentMethod: {
        PaymentMethod.BANK_TRANSFER: "銀行振込",
        PaymentMethod.CARD: "クレジットカード",
        PaymentMethod.KONBINI: "コンビニ払い",
        PaymentMethod.CUSTOMER_BALANCE: "振込(口座残高)",
    },
    PaymentStatus: {
        PaymentStatus.PENDING: "お支払い待ち",
        PaymentStatus.REQUIRES_ACTION: "本人確認待ち",
        PaymentStatus.PROCESSING: "処理中",
        PaymentStatus.SUCCEEDED: "完了",
        PaymentStatus.FAILED: "失敗",
        PaymentStatus.CANCELED: "取消",
    },
    RefundStatus: {
        RefundStatus.PENDING: "返金処理中",
        RefundStatus.PENDING_PAYOUT: "振込による返金待ち",
        RefundStatus.SUCCEEDED: "返金済み",
        RefundStatus.FAILED: "返金失敗",
    },
    BankTransactionStatus: {
        BankTransactionStatus.MATCHED: "自動照合済み",
        BankTransactionStatus.REVIEW: "確認待ち",
        BankTransactionStatus.RESOLVED: "照合済み",
        BankTransactionStatus.DISMISSED: "対象外",
    },
    AllocationMethod: {
        AllocationMethod.PROPORTIONAL: "費用に比例して配分",
        AllocationMethod.PRIORITY: "優先順に配分",
    },
}

# What the audit log records (the `action` argument of marketplace.audit.record).
AUDIT_ACTION_LABELS: Final[Mapping[str, str]] = {
    "ad_standards_updated": "広告掲載基準の更新",
    "booking_cancelled": "予約のキャンセル",
    "booking_confirmed": "予約の確定",
    "booking_creative_assigned": "予約への素材の設定",
    "booking_make_good": "補填掲載",
    "booking_paused": "予約の一時停止",
    "booking_resumed": "予約の再開",
    "booking_review_done": "予約の素材審査の完了",
    "creative_approved": "素材の承認",
    "creative_rejected": "素材の差し戻し",
    "disaster_mode_off": "災害モードの解除",
    "disaster_mode_on": "災害モードの開始",
    "holds_repeatedly_expired": "仮押さえの期限切れの繰り返し",
    "house_ad_created": "市のお知らせ枠の作成",
    "house_ad_retired": "市のお知らせ枠の取り下げ",
    "house_ad_updated": "市のお知らせ枠の更新",
    "placement_created": "広告枠の作成",
    "placement_updated": "広告枠の更新",
    "booking_scheduled": "予約の掲載予定入り",
    "booking_live": "予約の掲載開始",
    "booking_completed": "予約の掲載終了",
    "shop_approve": "店舗の承認",
    "shop_suspend": "店舗の停止",
    "shop_close": "店舗の登録終了",
    "shop_page_updated": "店舗ページの更新",
    "shop_profile_updated": "店舗情報の更新",
    "shop_rename_requested": "店名変更の申請",
    "shop_rename_approved": "店名変更の承認",
    "shop_rename_rejected": "店名変更の却下",
}
# What an audit entry is about (its `subject_type`).
AUDIT_SUBJECT_LABELS: Final[Mapping[str, str]] = {
    "ad_standards": "広告掲載基準",
    "booking": "予約",
    "creative_version": "素材",
    "house_ad": "市のお知らせ枠",
    "placement": "広告枠",
    "portal_settings": "ポータル設定",
    "shop": "店舗",
}

# The kinds of rule in the city's ad standards (marketplace.review.standards.RULE_KINDS).
RULE_KIND_LABELS: Final[Mapping[str, str]] = {
    "category": "掲載できない業種",
    "word": "使えない表現",
    "superlative": "根拠のない最上級表現",
    "ui_imitation": "画面の操作に見せかける表現",
    "impersonation": "市役所・行政をよそおう表現",
}
# Where the pre-check found a term (flyer pages are "page_<n>", labelled by their number).
CREATIVE_FIELD_LABELS: Final[Mapping[str, str]] = {
    "headline": "見出し",
    "body": "本文",
    "landing_url": "リンク先",
}

# Plain string vocabularies, by name.
STRING_LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "district": DISTRICTS,
    "shop_category": SHOP_CATEGORIES,
    "targeting_dimension": DIMENSION_LABELS,
    "age_band": AGE_BAND_LABELS,
    "household": HOUSEHOLD_LABELS,
    "audit_action": AUDIT_ACTION_LABELS,
    "audit_subject": AUDIT_SUBJECT_LABELS,
    "rule_kind": RULE_KIND_LABELS,
    "creative_field": CREATIVE_FIELD_LABELS,
}
# Targeting values by their dimension (interests are already Japanese category names).
TARGETING_VOCABULARY: Final[Mapping[str, str]] = {
    "age_bands": "age_band",
    "households": "household",
    "districts": "district",
}


class UnknownVocabulary(LookupError):
    pass


def source_label(value: object, vocabulary: str | None = None) -> str:
    """The Japanese label of a code (untranslated); a code without one is returned as it is."""
    if vocabulary is not None:
        if vocabulary not in STRING_LABELS:
            raise UnknownVocabulary(vocabulary)  # a template's typo, not input
        return STRING_LABELS[vocabulary].get(str(value), str(value))
    if isinstance(value, enum.Enum) and type(value) in ENUM_LABELS:
        return ENUM_LABELS[type(value)].get(value.value, str(value.value))
    return str(value)


def label(value: object, vocabulary: str | None = None) -> str:
    """The label of a code in the page's language."""
    return gettext(source_label(value, vocabulary))


def targeting_label(dimension: str, value: str) -> str:
    """The label of one targeting value (interests are their own label)."""
    vocabulary = TARGETING_VOCABULARY.get(dimension)
    return label(value, vocabulary) if vocabulary else gettext(value)


def creative_field_label(field: str) -> str:
    """見出し / 本文 / リンク先, or 「3ページ目」 for a flyer's printed page."""
    number = field.removeprefix("page_")
    if number != field and number.isdigit():
        return gettext("{number}ページ目").format(number=number)
    return label(field, "creative_field")
