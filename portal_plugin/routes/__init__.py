"""The plugin's HTTP routes, one module per area. Each module exposes `routes`."""

from __future__ import annotations

from starlette.routing import BaseRoute

from portal_plugin.routes import (
    ad_choices,
    articles,
    billing_finance,
    billing_shop,
    billing_webhook,
    delivery,
    feed,
    finance,
    finance_costs,
    flyers,
    health,
    marketplace_api,
    metrics,
    my_data,
    openapi,
    residents,
    shop_accounts,
    shop_creatives,
    shop_flyers,
    shop_pages,
    shop_password,
    shop_portal,
    shop_reports,
    staff_api,
    staff_auth,
    staff_house_ads,
    staff_inventory,
    staff_jobs,
    staff_review,
    transparency,
)

ROUTE_MODULES = [
    health,
    metrics,
    residents,
    ad_choices,
    my_data,
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
    shop_password,
    shop_portal,
    shop_creatives,
    shop_reports,
    staff_review,
    staff_inventory,
    staff_house_ads,
    staff_jobs,
    marketplace_api,
    staff_api,
    openapi,
    billing_shop,
    shop_flyers,
    flyers,
    shop_pages,
]


def all_routes() -> list[BaseRoute]:
    return [route for module in ROUTE_MODULES for route in module.routes]
