"""Validation of a shop's sign-up profile, field by field, with Japanese messages."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from marketplace.accounts.passwords import MIN_PASSWORD_LENGTH
from marketplace.accounts.staff import EMAIL_PATTERN
from marketplace.errors import InvalidInput
from marketplace.vocab import DISTRICTS, SHOP_CATEGORIES

OUTSIDE_CITY: Final = "outside"
MAX_PASSWORD_LENGTH: Final = 256
_PHONE = re.compile(r"^[0-9+\-() ]{0,32}$")
_KANA = re.compile(r"^[\u30A0-\u30FF\u3000 ー・]*$")


def registration_number_is_valid(value: str) -> bool:
    """Qualified-invoice number: "T" + 13 digits whose first digit is the check digit
    (the corporate-number algorithm: 9 − (Σ digit × (1 or 2 alternately from the right)) mod 9)."""
    if not re.fullmatch(r"T\d{13}", value):
        return False
    check, base = int(value[1]), value[2:]
    total = sum(
        int(digit) * (1 if position % 2 else 2)
        for position, digit in enumerate(reversed(base), start=1)
    )
    return check == 9 - total % 9


@dataclass(frozen=True)
class ShopProfile:
    business_name: str
    business_name_kana: str
    category: str
    district: str
    contact_name: str
    contact_phone: str
    invoice_registration_number: str | None

    @property
    def in_city(self) -> bool:
        return self.district != OUTSIDE_CITY


def _text(data: Mapping[str, Any], name: str, label: str, limit: int, required: bool) -> str:
    value = unicodedata.normalize("NFKC", str(data.get(name) or "")).strip()
    if required and not value:
        raise InvalidInput("{label}を入力してください", field=name, label=label)
    if len(value) > limit:
        raise InvalidInput(
            "{label}は{limit}文字以内で入力してください", field=name, label=label, limit=limit
        )
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidInput("{label}に使えない文字が含まれています", field=name, label=label)
    return value


def parse_email(raw: Any) -> str:
    email = str(raw or "").strip().lower()
    if not email:
        raise InvalidInput("メールアドレスを入力してください", field="email")
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise InvalidInput("メールアドレスの形式が正しくありません", field="email")
    return email


def parse_password(raw: Any) -> str:
    password = str(raw or "")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            "パスワードは{low}〜{high}文字にしてください",
            field="password",
            low=MIN_PASSWORD_LENGTH,
            high=MAX_PASSWORD_LENGTH,
        )
    return password


def parse_profile(data: Mapping[str, Any]) -> ShopProfile:
    business_name = _text(data, "business_name", "店名・事業者名", 120, True)
    kana = _text(data, "business_name_kana", "店名のフリガナ", 120, False)
    if not _KANA.match(kana):
        raise InvalidInput("フリガナはカタカナで入力してください", field="business_name_kana")
    category = str(data.get("category") or "")
    if category not in SHOP_CATEGORIES:
        raise InvalidInput("業種を一覧から選んでください", field="category")
    district = str(data.get("district") or "")
    if district not in DISTRICTS and district != OUTSIDE_CITY:
        raise InvalidInput("所在地区を一覧から選んでください", field="district")
    contact_name = _text(data, "contact_name", "担当者名", 80, True)
    phone = _text(data, "contact_phone", "電話番号", 32, False)
    if not _PHONE.match(phone):
        raise InvalidInput("電話番号は数字とハイフンで入力してください", field="contact_phone")
    number = _text(data, "invoice_registration_number", "適格請求書発行事業者登録番号", 14, False)
    number = number.upper().replace("-", "") or ""
    if number and not registration_number_is_valid(number):
        raise InvalidInput(
            "登録番号は T と13桁の数字で、正しい番号を入力してください",
            field="invoice_registration_number",
        )
    return ShopProfile(business_name, kana, category, district, contact_name, phone, number or None)
