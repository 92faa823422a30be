"""Normalising payer names (振込依頼人名) so bank statements match shops' kana names.

Banks print names in half-width katakana, upper-case only (no small kana), often with a legal
form abbreviation such as カ) or (ユ. Shops type their reading in full-width katakana or
hiragana. Both sides are reduced to the same form before comparing.
"""

from __future__ import annotations

import re
import unicodedata

_SMALL_TO_LARGE = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
# Abbreviated legal forms on transfers: 株式会社 カ, 有限会社 ユ, 合同会社 ド, 医療法人 イ, etc.
_LEGAL_FORM = re.compile(
    r"\((?:カ|ユ|ド|シヤ|イ|ザイ|シヤダ|ゴ|メ)\)|^(?:カ|ユ|ド)\)|\((?:カ|ユ|ド)$"
)
_DROP = re.compile(r"[\s\u3000・.,、。()\-‐ー－―]")


def _hiragana_to_katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def normalise_kana(name: str) -> str:
    """A comparison key: full-width katakana, large kana only, no legal form or punctuation."""
    text = unicodedata.normalize("NFKC", name)
    text = _hiragana_to_katakana(text).upper().translate(_SMALL_TO_LARGE)
    text = re.sub(r"\s+", "", text)
    text = _LEGAL_FORM.sub("", text)
    # Long-vowel marks and hyphens are written inconsistently by banks: drop them all.
    return _DROP.sub("", text)


REFERENCE = re.compile(r"(?<!\d)(\d{8})(?!\d)")


def references_in(*texts: str) -> list[str]:
    """Eight-digit invoice references typed before the name or in the memo field."""
    found: list[str] = []
    for text in texts:
        for match in REFERENCE.findall(unicodedata.normalize("NFKC", text)):
            if match not in found:
                found.append(match)
    return found
