from __future__ import annotations

import pytest

from billing.kana import normalise_kana, references_in


@pytest.mark.parametrize(
    ("bank", "shop"),
    [
        ("ｱｲﾂﾞﾉｻｶｸﾞﾗ", "アイヅノサカグラ"),
        ("ｶ)ｱｲﾂﾞﾉｻｶｸﾞﾗ", "あいづのさかぐら"),
        ("ｱｲﾂﾞｼﾖｳﾃﾝ", "アイヅショウテン"),  # banks print no small kana
        ("ｿﾊﾞﾄﾞｺﾛ ｱｲﾂﾞｱﾝ", "ソバドコロ・アイヅアン"),
        ("ｺｰﾋｰﾃﾝ(ﾕ", "コーヒーテン"),
    ],
)
def test_bank_and_shop_spellings_agree(bank: str, shop: str) -> None:
    assert normalise_kana(bank) == normalise_kana(shop)


def test_different_names_stay_different() -> None:
    assert normalise_kana("ｱｲﾂﾞﾉｻｶｸﾞﾗ") != normalise_kana("アイヅノサカヤ")


def test_references_are_eight_digits_in_any_width() -> None:
    assert references_in("２６０００００１ ｱｲﾂﾞﾉｻｶｸﾞﾗ", "") == ["26000001"]
    assert references_in("123456789 ｱｲﾂﾞ", "振込 26000002") == ["26000002"]
