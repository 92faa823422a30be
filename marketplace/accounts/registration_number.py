"""Qualified-invoice registration numbers (適格請求書発行事業者登録番号).

A registration number for a corporation is "T" followed by its 13-digit corporate number
(法人番号). The first of those 13 digits is a check digit over the remaining 12:

    check = 9 - (sum(P_n * Q_n for n in 1..12) mod 9)

where P_n is the n-th digit counted from the right end of the 12-digit base and Q_n is 1 for odd
n and 2 for even n. The check digit is therefore always between 1 and 9.
"""

from __future__ import annotations

_ASCII_DIGITS = frozenset("0123456789")


def _is_ascii_digits(s: str, length: int) -> bool:
    # str.isdigit() also accepts full-width and other Unicode digits, which are not valid here.
    return len(s) == length and all(ch in _ASCII_DIGITS for ch in s)


def invoice_check_digit(base12: str) -> int:
    """Return the check digit (1-9) for a 12-digit corporate-number base."""
    if not _is_ascii_digits(base12, 12):
        raise ValueError(f"expected exactly 12 ASCII digits, got {base12!r}")
    total = sum(
        int(digit) * (1 if position % 2 == 1 else 2)
        for position, digit in enumerate(reversed(base12), start=1)
    )
    return 9 - total % 9


def make_invoice_registration_number(base12: str) -> str:
    """Build the full "T" + 13-digit registration number for a 12-digit base."""
    return f"T{invoice_check_digit(base12)}{base12}"


def is_valid_invoice_registration_number(s: object) -> bool:
    """True if ``s`` is "T" followed by 13 ASCII digits whose first digit is a valid check digit."""
    if not isinstance(s, str) or len(s) != 14 or s[0] != "T":
        return False
    digits = s[1:]
    if not _is_ascii_digits(digits, 13):
        return False
    return int(digits[0]) == invoice_check_digit(digits[1:])
