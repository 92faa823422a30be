"""Parsing outside input (forms, CLI arguments) into the primitives services accept.

Every parser raises an `AnalyticsError` subclass whose message names the field.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from analytics.errors import InvalidAmount, InvalidPeriod

MIN_FISCAL_YEAR = 2000
MAX_FISCAL_YEAR = 2100
# Ten trillion yen: far above any municipal service budget, far below BIGINT overflow.
MAX_YEN = 10**13
_YEN_PATTERN = re.compile(r"[0-9]+")


def parse_yen(raw: object, field: str = "amount_yen") -> int:
    """A non-negative whole number of yen. Accepts ¥, 円, commas and full-width digits."""
    if isinstance(raw, bool):
        raise InvalidAmount("{field}: 金額は円単位の整数で入力してください", field=field)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            raise InvalidAmount(
                "{field}: 金額は円単位の整数で入力してください（小数は不可）", field=field
            )
        value = int(raw)
    elif isinstance(raw, str):
        text = unicodedata.normalize("NFKC", raw).strip()
        text = text.removeprefix("¥").removeprefix("￥").removesuffix("円").replace(",", "")
        text = text.strip()
        if text.startswith("-"):
            raise InvalidAmount("{field}: 金額に負の値は入力できません", field=field)
        if not text:
            raise InvalidAmount("{field}: 金額を入力してください", field=field)
        if not _YEN_PATTERN.fullmatch(text):
            raise InvalidAmount(
                "{field}: 金額は円単位の整数で入力してください（例: 1200000）", field=field
            )
        value = int(text)
    else:
        raise InvalidAmount("{field}: 金額は円単位の整数で入力してください", field=field)
    if value < 0:
        raise InvalidAmount("{field}: 金額に負の値は入力できません", field=field)
    if value > MAX_YEN:
        raise InvalidAmount(
            "{field}: 金額が大きすぎます（上限 {limit:,} 円）", field=field, limit=MAX_YEN
        )
    return value


def parse_fiscal_year(raw: object, field: str = "fiscal_year") -> int:
    """A fiscal year (年度) between 2000 and 2100."""
    text = unicodedata.normalize("NFKC", str(raw)).strip() if raw is not None else ""
    if isinstance(raw, bool) or not re.fullmatch(r"[0-9]{4}", text):
        raise InvalidPeriod("{field}: 年度は西暦4桁で入力してください（例: 2026）", field=field)
    year = int(text)
    if not MIN_FISCAL_YEAR <= year <= MAX_FISCAL_YEAR:
        raise InvalidPeriod(
            "{field}: 年度は {low}〜{high} の範囲で入力してください",
            field=field,
            low=MIN_FISCAL_YEAR,
            high=MAX_FISCAL_YEAR,
        )
    return year


def parse_month(raw: object, field: str = "month") -> int:
    """0 for the whole fiscal year, or a calendar month 1–12."""
    text = unicodedata.normalize("NFKC", str(raw)).strip() if raw is not None else ""
    if text in {"", "0", "year", "annual"}:
        return 0
    if not re.fullmatch(r"[0-9]{1,2}", text) or not 1 <= int(text) <= 12:
        raise InvalidPeriod("{field}: 月は 1〜12、または年間（0）で指定してください", field=field)
    return int(text)


def month_start_in_fiscal_year(fiscal_year: int, month: int) -> date:
    """The first day of calendar `month` inside fiscal year `fiscal_year` (April–March)."""
    if not 1 <= month <= 12:
        raise InvalidPeriod("{field}: 月は 1〜12 で指定してください", field="month")
    return date(fiscal_year if month >= 4 else fiscal_year + 1, month, 1)
