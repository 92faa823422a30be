"""What a person reads on a page: its visible text and accessible names, and the vocabulary
codes found in it (a page must show `label(code)`, never the code)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from html.parser import HTMLParser

from portal_plugin.labels import ENUM_LABELS, STRING_LABELS

# Text inside these is not read (scripts, styles), or is literal on purpose: <code> quotes an
# identifier a person types or looks up (an ad-standards rule id, a token prefix), a <textarea>
# holds a file being edited.
SILENT_TAGS = frozenset({"script", "style", "template", "noscript", "code", "textarea"})
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
READ_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")
TOKEN = re.compile(r"[A-Za-z0-9_+\-]+")
# Addresses and paths are read as a whole, not word by word (/marketplace/shop/signup).
ADDRESS = re.compile(r"\S*/\S*")
# snake_case words are how the code names things; people never read them.
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.silent = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SILENT_TAGS:
            self.silent += 1
            return
        values = dict(attrs)
        for name in READ_ATTRIBUTES:
            if values.get(name):
                self.parts.append(str(values[name]))
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.parts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in SILENT_TAGS and self.silent:
            self.silent -= 1

    def handle_data(self, data: str) -> None:
        if not self.silent:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return "\n".join(part.strip() for part in parser.parts if part.strip())


def vocabulary_codes(extra: Iterable[str] = ()) -> frozenset[str]:
    """Every code of every labelled vocabulary, plus `extra` (e.g. placement codes)."""
    codes: set[str] = set(extra)
    for vocabulary in ENUM_LABELS:
        codes.update(str(member.value) for member in vocabulary if isinstance(member, enum.Enum))
    for labels in STRING_LABELS.values():
        codes.update(labels)
    return frozenset(codes)


def codes_shown(html: str, codes: frozenset[str]) -> list[str]:
    """The vocabulary codes (and snake_case names) a reader would see on this page."""
    found = []
    for line in visible_text(html).splitlines():
        for token in TOKEN.findall(ADDRESS.sub(" ", line)):
            if token in codes or SNAKE_CASE.match(token):
                found.append(f"{token!r} in {line[:80]!r}")
    return found
