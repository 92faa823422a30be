"""The plugin's HTTP routes, one module per area. Each module exposes `routes`."""

from __future__ import annotations

from starlette.routing import BaseRoute

from portal_plugin.routes import (
    articles,
    billing_finance,
    billing_shop,
    billing_webhook,
    delivery,
    feed,
    finance,
    finance_costs,
    health,
    marketplace_api,
    openapi,
    residents,
    shop_accounts,
    shop_creatives,
    shop_portal,
    shop_reports,
    staff_api,
    staff_auth,
    staff_inventory,
    staff_review,
    transparency,
)

ROUTE_MODULES = [
    health,
    residents,
    articles,
    feed,
    delivery,
    staff_auth,
    billing_webhook,
    billing_finance,
    finance,
    finance_costs,
    transparency,
    shop_accounts,
    shop_portal,
    shop_creatives,
    shop_reports,
    staff_review,
    staff_inventory,
    marketplace_api,
    staff_api,
    openapi,
    billing_shop,
]


def all_routes() -> list[BaseRoute]:
    return [route for module in ROUTE_MODULES for route in module.routes]
