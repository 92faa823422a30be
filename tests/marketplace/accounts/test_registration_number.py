from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.accounts.registration_number import (
    invoice_check_digit,
    is_valid_invoice_registration_number,
    make_invoice_registration_number,
)

# Published corporate numbers: the National Tax Agency (国税庁) and Toyota Motor Corporation.
KNOWN_CORPORATE_NUMBERS = ["7000012050002", "1180301018771"]


@pytest.mark.parametrize("corporate_number", KNOWN_CORPORATE_NUMBERS)
def test_check_digit_of_published_corporate_numbers(corporate_number: str) -> None:
    assert invoice_check_digit(corporate_number[1:]) == int(corporate_number[0])
    assert is_valid_invoice_registration_number("T" + corporate_number)


def test_wrong_check_digit_is_refused() -> None:
    assert not is_valid_invoice_registration_number("T8000012050002")
    assert not is_valid_invoice_registration_number("T6000012050002")


@pytest.mark.parametrize(
    "value",
    [
        None,
        7000012050002,
        "",
        "7000012050002",  # missing T
        "t7000012050002",  # lower-case t
        "T700001205000",  # 12 digits
        "T70000120500021",  # 14 digits
        "T７000012050002",  # full-width digit
        "T7000012O50002",  # letter O instead of zero
        " T7000012050002",
    ],
)
def test_malformed_values_are_invalid(value: object) -> None:
    assert not is_valid_invoice_registration_number(value)


@pytest.mark.parametrize(
    "base", ["", "12345678901", "1234567890123", "12345678901a", "１２３４５６７８９０１２"]
)
def test_check_digit_rejects_bad_base(base: str) -> None:
    with pytest.raises(ValueError, match="12 ASCII digits"):
        invoice_check_digit(base)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_generated_numbers_are_valid_and_one_digit_changes_break_them(base: str) -> None:
    number = make_invoice_registration_number(base)
    assert is_valid_invoice_registration_number(number)
    assert 1 <= int(number[1]) <= 9
    # Raising the last digit by one raises the weighted sum by 1, so the number must fail;
    # 9 -> 0 lowers it by 9, which the mod-9 check cannot see.
    last = int(base[-1])
    if last != 9:
        altered = number[:-1] + str(last + 1)
        assert not is_valid_invoice_registration_number(altered)
