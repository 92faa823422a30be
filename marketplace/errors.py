"""Domain errors of the marketplace.

Each error carries a Japanese message template and its parameters, so that the web layer can
translate the template (the msgid) and then fill in the values. `field` names the input at fault.
"""

from __future__ import annotations

from typing import Any


class MarketplaceError(Exception):
    code = "marketplace_error"
    template = "操作を完了できませんでした"

    def __init__(self, template: str | None = None, *, field: str | None = None, **params: Any):
        self.template = template or type(self).template
        self.field = field
        self.params = params
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.template.format(**self.params)


class InvalidInput(MarketplaceError):
    code = "invalid_input"
    template = "入力内容に誤りがあります"


class NotFound(MarketplaceError):
    """Also raised for other shops' objects, so that their existence never leaks."""

    code = "not_found"
    template = "見つかりません"


class PermissionDenied(MarketplaceError):
    code = "forbidden"
    template = "この操作の権限がありません"


class ShopNotApproved(MarketplaceError):
    code = "shop_not_approved"
    template = "お店の登録が承認されるまで予約はできません"


class SharesUnavailable(MarketplaceError):
    code = "sold_out"
    template = "{week} の週は空き枠が足りません(残り {free} 枠)"


class HoldExpired(MarketplaceError):
    code = "hold_expired"
    template = "仮押さえの期限が切れ、枠を確保できませんでした。もう一度お選びください"


class IdempotencyConflict(MarketplaceError):
    code = "idempotency_conflict"
    template = "同じ申込番号で内容の異なる予約がすでにあります"


class AlreadyExists(MarketplaceError):
    code = "already_exists"
    template = "すでに登録されています"


class InvalidTransition(MarketplaceError):
    code = "illegal_transition"
    template = "{subject} は「{current}」から「{target}」に変更できません"


class PayloadTooLarge(InvalidInput):
    code = "too_large"
    template = "ファイルが大きすぎます"
