from __future__ import annotations

import pytest

from marketplace.creatives.urls import validate_landing_url
from marketplace.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://example.jp", "https://example.jp/"),
        ("  https://Shop.Example.JP/menu?x=1#top ", "https://shop.example.jp/menu?x=1#top"),
        ("https://会津.jp/", "https://xn--6oq554e.jp/"),
        ("https://example.jp:443/a", "https://example.jp/a"),
    ],
)
def test_accepted(raw: str, expected: str) -> None:
    assert validate_landing_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "http://example.jp/",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "ftp://example.jp/",
        "https://127.0.0.1/",
        "https://[::1]/",
        "https://2130706433/",
        "https://0x7f.1/",
        "https://localhost/",
        "https://printer.local/",
        "https://api.localhost/",
        "https://user:pw@example.jp/",
        "https://example.jp:8443/",
        "https://example/",
        "https://exa mple.jp/",
        "https://example.jp/\x00",
        "//example.jp/",
        "https:///path",
        "https://-bad-.jp/",
        "https://" + "a" * 500 + ".jp/",
    ],
)
def test_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as error:
        validate_landing_url(raw)
    assert error.value.field == "landing_url"
