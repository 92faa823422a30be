from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal_plugin import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"
MESSAGE = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")


def template_messages() -> set[str]:
    found: set[str] = set()
    for template in TEMPLATES.rglob("*.html"):
        found.update(
            match.group(2) for match in MESSAGE.finditer(template.read_text(encoding="utf-8"))
        )
    return found


def test_every_template_message_has_an_english_translation() -> None:
    missing = sorted(m for m in template_messages() if m not in i18n.catalogue("en"))
    assert not missing, f"add these to a portal_plugin/locale/en/*.po file: {missing}"


def test_gettext_follows_the_current_language() -> None:
    token = i18n.current_language.set("en")
    try:
        assert i18n.gettext("ログイン") == "Log in"
        assert i18n.gettext("未翻訳の文") == "未翻訳の文"
    finally:
        i18n.current_language.reset(token)
    assert i18n.gettext("ログイン") == "ログイン"


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("en", None, None, "en"),
        (None, "en", "ja", "en"),
        ("xx", None, "en-US,en;q=0.9", "en"),
        (None, None, "fr-FR", "ja"),
        # q-values decide, not the order of the header
        (None, None, "en;q=0.3, ja;q=0.8", "ja"),
        (None, None, "ja;q=0.1, fr, en-GB;q=0.5", "en"),
        (None, None, "en;q=0, ja;q=0.2", "ja"),
        (None, None, "EN-us", "en"),
        (None, None, "en;q=oops, ja", "ja"),
        (None, None, None, "ja"),
    ],
)
def test_language_negotiation(
    query: str | None, cookie: str | None, accept: str | None, expected: str
) -> None:
    assert i18n.negotiate_language(query, cookie, accept, "ja") == expected


def test_no_message_is_translated_two_ways() -> None:
    from babel.messages.pofile import read_po

    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po_file in sorted((i18n.LOCALE_DIR / "en").glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle, locale="en"):
                if not message.id or not message.string:
                    continue
                key, text = str(message.id), str(message.string)
                if key in seen and seen[key][1] != text:
                    clashes.append(
                        f"{key!r}: {seen[key][0]} says {seen[key][1]!r}, {po_file.name} says {text!r}"
                    )
                seen.setdefault(key, (po_file.name, text))
    assert not clashes, clashes
