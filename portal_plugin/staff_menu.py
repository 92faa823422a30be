"""The staff home menu: each entry is shown only to the roles the access policy lets in."""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.vocab import StaffRole
from portal_plugin.access_policy import Party, access_for
from portal_plugin.i18n import gettext as _

# (route name, Japanese label); the order is the order on the page.
MENU: tuple[tuple[str, str], ...] = (
    ("staff_review_queue", "広告の審査"),
    ("staff_shops", "店舗の承認"),
    ("staff_marketplace", "広告の運用・災害モード"),
    ("staff_inventory", "広告枠と料金"),
    ("staff_house_ads", "市のお知らせ枠(自主広告)"),
    ("staff_audit", "監査ログ"),
    ("staff_ad_standards", "広告掲載基準"),
    ("finance_dashboard", "財務ダッシュボード（運営費の充当率）"),
    ("finance_costs", "サービス運営費"),
    ("billing_invoices", "請求書"),
    ("billing_aging", "売掛金の年齢表"),
    ("billing_bank", "銀行入金の取込と照合"),
    ("billing_refunds", "返金"),
    ("staff_jobs", "定期処理の状況"),
)


@dataclass(frozen=True)
class MenuEntry:
    route_name: str
    label: str


def menu_for(role: StaffRole) -> list[MenuEntry]:
    """The entries `role` may open, translated into the current language."""
    party = Party(role.value)
    return [MenuEntry(name, _(label)) for name, label in MENU if access_for(name).allows(party)]
