"""Japanese-first UI text with an English catalogue.

Templates and code use Japanese source strings (`_("広告")`); English comes from the `.po`
files under `portal_plugin/locale/en/`. Each package may add its own `.po` file there; they are
merged at start-up, so no compile step is needed.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import negotiate_locale
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED_LANGUAGES = ("ja", "en")
current_language: ContextVar[str] = ContextVar("current_language", default="ja")


@cache
def catalogue(language: str) -> dict[str, str]:
    """All translations for `language`, merged from every .po file in its folder."""
    messages: dict[str, str] = {}
    folder = LOCALE_DIR / language
    if not folder.is_dir():
        return messages
    for po_file in sorted(folder.glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id and message.string and isinstance(message.id, str):
                    messages[message.id] = str(message.string)
    return messages


def gettext(message: str) -> str:
    language = current_language.get()
    if language == "ja":
        return message
    return catalogue(language).get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


def preferred_languages(accept_language: str) -> list[str]:
    """The tags of an Accept-Language header, most preferred first (q=0 means "not this")."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and 0 < quality <= 1:
            weighted.append((-quality, index, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate_language(
    query_value: str | None, cookie_value: str | None, accept_language: str | None, default: str
) -> str:
    """Explicit choice first (query, then cookie), then the browser's preference, then default."""
    for candidate in (query_value, cookie_value):
        if candidate in SUPPORTED_LANGUAGES:
            return str(candidate)
    if accept_language:
        chosen = negotiate_locale(preferred_languages(accept_language), SUPPORTED_LANGUAGES, "-")
        if chosen:
            return chosen.lower()
    return default
