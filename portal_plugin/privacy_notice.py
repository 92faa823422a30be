"""What the plugin sends to whom outside the city's own servers (外部送信, 電気通信事業法).

One list, read by the data inventory (`privacy inventory`), the transparency page's notice and
the resident's own download, so the three never disagree. Residents' data goes nowhere: ads,
images and counting are served by the plugin itself, and no third-party tag, font or script is
loaded on residents' pages (the security headers' Content-Security-Policy holds the pages to
this site).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Final, Literal

from portal_plugin.settings import Settings

Whose = Literal["shop", "staff", "resident"]


@dataclass(frozen=True)
class Transmission:
    recipient: str
    whose: Whose
    what: str
    purpose: str
    setting: str  # the setting that turns it on; unset, nothing is sent

    def enabled(self, settings: Settings) -> bool:
        return bool(getattr(settings, self.setting))


TRANSMISSIONS: Final[tuple[Transmission, ...]] = (
    Transmission(
        recipient="Stripe, Inc.（決済代行）",
        whose="shop",
        what="お店の名前・連絡先メールアドレス、請求の金額と番号（カード番号はStripeの画面に直接入力）",
        purpose="お店の広告料のカード決済と請求",
        setting="stripe_api_key",
    ),
    Transmission(
        recipient="市が指定するメールサーバー（SMTP）",
        whose="shop",
        what="お店の担当者と市の職員のメールアドレス、お知らせの本文",
        purpose="パスワードの再設定とお店へのお知らせのメール",
        setting="smtp_host",
    ),
)
RESIDENT_TRANSMISSIONS: Final = tuple(asdict(t) for t in TRANSMISSIONS if t.whose == "resident")


@dataclass(frozen=True)
class PageSend:
    """What a resident's browser sends while on the plugin's pages and cards, and to whom."""

    recipient: str
    what: str
    purpose: str


# The impression pixel and the click link: the only requests an ad makes, both to this service.
RESIDENT_PAGE_SENDS: Final[tuple[PageSend, ...]] = (
    PageSend(
        recipient="このサービス（会津若松市）",
        what="表示・クリックした広告の記録番号と日時、IPアドレス（末尾を消して保存）、"
        "ブラウザの種類（ロボットの判定だけに使い、保存しません）",
        purpose="広告の表示回数・クリック数の計測と、不正な計測の防止",
    ),
)


def shop_recipients() -> tuple[str, ...]:
    """The outside services shops' data goes to (residents' data goes to none)."""
    return tuple(t.recipient for t in TRANSMISSIONS if t.whose != "resident")
