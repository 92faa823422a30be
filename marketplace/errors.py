"""Domain errors: one shape for the marketplace, billing and analytics.

`DomainError` is the base every package's errors share (billing and analytics subclass it; it
lives here, in the lowest package that raises one). An error carries a stable `code`, the HTTP
`status` it answers with, the input at fault (`field`) and a Japanese message template with its
parameters. The template is also the msgid of its English translation in the .po catalogue, so
the web layer translates the template and then fills in the values (`message_in`); `message`
(and `str()`) is the Japanese text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    template = "操作を完了できませんでした"

    def __init__(self, template: str | None = None, *, field: str | None = None, **params: Any):
        self.template = template or type(self).template
        self.field = field
        self.params = params
        super().__init__(self.message)

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries (e.g. Retry-After on a rate limit)."""
        return {}

    @property
    def message(self) -> str:
        return self._fill(self.template, self.params)

    def message_in(self, translate: Callable[[str], str]) -> str:
        """The message in another language: the template and any text parameters translated."""
        params = {
            key: translate(value) if isinstance(value, str) else value
            for key, value in self.params.items()
        }
        return self._fill(translate(self.template), params)

    def _fill(self, template: str, params: dict[str, Any]) -> str:
        # A template may name its field ("{field}: …"), as analytics' messages do.
        return template.format(**{"field": self.field, **params})


class MarketplaceError(DomainError):
    code = "marketplace_error"


class InvalidInput(MarketplaceError):
    code = "invalid_input"
    status = 422
    template = "入力内容に誤りがあります"


class NotFound(MarketplaceError):
    """Also raised for other shops' objects, so that their existence never leaks."""

    code = "not_found"
    status = 404
    template = "見つかりません"


class PermissionDenied(MarketplaceError):
    code = "forbidden"
    status = 403
    template = "この操作の権限がありません"


class ShopNotApproved(MarketplaceError):
    code = "shop_not_approved"
    status = 403
    template = "お店の登録が承認されるまで予約はできません"


class SharesUnavailable(MarketplaceError):
    code = "sold_out"
    status = 409
    template = "{week} の週は空き枠が足りません(残り {free} 枠)"


class ReachTooNarrow(MarketplaceError):
    code = "reach_too_narrow"
    status = 422
    template = (
        "対象が狭すぎます: この絞り込みに当てはまる住民が少なすぎるため、お申し込みいただけません。"
        "絞り込みを広げてください"
    )


class ReachSoldOut(MarketplaceError):
    code = "reach_sold_out"
    status = 409
    template = (
        "売り切れ: この絞り込みの住民向けの枠は、すでに申し込まれた広告でほぼ埋まっています"
        "(見込みは購入分の{percent}%)。絞り込みを広げるか、枠数を減らしてください"
    )


class CreativeRequired(MarketplaceError):
    code = "creative_required"
    status = 422
    template = (
        "仮押さえの前に広告素材を登録して審査に出してください(審査中または承認済みの素材が必要です)"
    )


class HoldLimitExceeded(MarketplaceError):
    """A hold over what one shop may hold at once; the template names the limit."""

    code = "hold_limit"
    status = 409
    template = "仮押さえの上限を超えています"


class HoldRateLimited(MarketplaceError):
    code = "hold_rate_limited"
    status = 429
    template = (
        "仮押さえの回数が上限(1時間に{per_hour}回、1日に{per_day}回)に達しました。"
        "{minutes}分後にもう一度お試しください"
    )

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.params.get("minutes", 1) * 60)}


class HoldExpired(MarketplaceError):
    code = "hold_expired"
    status = 409
    template = "仮押さえの期限が切れ、枠を確保できませんでした。もう一度お選びください"


class IdempotencyConflict(MarketplaceError):
    code = "idempotency_conflict"
    status = 409
    template = "同じ申込番号で内容の異なる予約がすでにあります"


class AlreadyExists(MarketplaceError):
    code = "already_exists"
    status = 409
    template = "すでに登録されています"


class InvalidTransition(MarketplaceError):
    code = "illegal_transition"
    status = 409
    template = "{subject} は「{current}」から「{target}」に変更できません"


class PayloadTooLarge(InvalidInput):
    code = "too_large"
    status = 413
    template = "ファイルが大きすぎます"


class PlacementNotServable(InvalidInput):
    """No page of the host portal would ever show this placement, so it must not be sold."""

    code = "placement_not_servable"
    template = "この枠は住民のページに表示されないため、現在は販売していません"
