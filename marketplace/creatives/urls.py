"""Landing URLs: https to a public host name only."""

from __future__ import annotations

import ipaddress
import re
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from marketplace.errors import InvalidInput

MAX_URL_LENGTH: Final = 500
BLOCKED_SUFFIXES: Final = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".test")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _bad(template: str) -> InvalidInput:
    return InvalidInput(template, field="landing_url")


def _is_ip_like(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    # Browsers also read 2130706433, 0x7f.1 or 127.1 as addresses.
    return all(re.fullmatch(r"(0x[0-9a-f]*|[0-9]+)", label) for label in host.split(".") if label)


def validate_landing_url(raw: str) -> str:
    """Return the normalised URL, or raise InvalidInput explaining what is wrong."""
    url = (raw or "").strip()
    if not url:
        raise _bad("リンク先URLを入力してください")
    if len(url) > MAX_URL_LENGTH:
        raise _bad("リンク先URLが長すぎます(500文字以内)")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url) or "\\" in url:
        raise _bad("リンク先URLに使えない文字が含まれています")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _bad("リンク先URLの形式が正しくありません") from None
    if parts.scheme.lower() != "https":
        raise _bad("リンク先URLは https:// で始まるものにしてください")
    if parts.username is not None or parts.password is not None:
        raise _bad("リンク先URLにユーザー名やパスワードを含めないでください")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _bad("リンク先URLにホスト名がありません")
    if _is_ip_like(host):
        raise _bad("リンク先URLにIPアドレスは使えません。ドメイン名を指定してください")
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _bad("リンク先URLのホスト名が正しくありません") from None
    if ascii_host == "localhost" or ascii_host.endswith(BLOCKED_SUFFIXES):
        raise _bad("リンク先URLに内部向けのホスト名は使えません")
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise _bad("リンク先URLのホスト名が正しくありません")
    if not re.fullmatch(r"[a-z]{2,63}|xn--[a-z0-9-]+", labels[-1]):
        raise _bad("リンク先URLのホスト名が正しくありません")
    if port not in (None, 443):
        raise _bad("リンク先URLにポート番号は指定できません")
    return urlunsplit(("https", ascii_host, parts.path or "/", parts.query, parts.fragment))
