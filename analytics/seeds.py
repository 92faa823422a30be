"""The city's free citizen services and plausible running costs, for new installs and the demo.

Idempotent: services are created once; a cost already recorded is left as finance set it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.costs import SYSTEM, ensure_service, set_cost
from analytics.models import ServiceCost


@dataclass(frozen=True)
class ServiceSeed:
    code: str
    name: str
    description: str
    annual_cost: int
    # Months (calendar) in which the cost falls, with weights; empty means one annual figure.
    monthly_weights: dict[int, int]


SERVICE_SEEDS: tuple[ServiceSeed, ...] = (
    ServiceSeed(
        "snow-plough",
        "除雪車ナビ",
        "除雪車の位置と除雪状況を地図で確認できるサービス",
        4_800_000,
        # GPS units and the map server are paid for all year, the data link in winter.
        {4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1, 11: 2, 12: 4, 1: 5, 2: 5, 3: 3},
    ),
    ServiceSeed(
        "maternal-health",
        "母子健康情報サービス",
        "母子健康手帳の記録や予防接種の予定を確認できるサービス",
        3_600_000,
        {},
    ),
    ServiceSeed(
        "aizukko-plus",
        "あいづっこプラス",
        "学校からのお知らせを保護者に届けるサービス",
        2_400_000,
        {},
    ),
    ServiceSeed(
        "portal-operations",
        "ポータル運営・ホスティング",
        "会津若松＋のサーバー、保守、運用の費用",
        9_600_000,
        {},
    ),
)


def seed_services(session: Session, fiscal_years: Iterable[int] = ()) -> int:
    """Create the services and, for each fiscal year given, their costs. Returns figures added."""
    added = 0
    for seed in SERVICE_SEEDS:
        service = ensure_service(session, seed.code, seed.name, seed.description)
        for year in fiscal_years:
            exists = session.scalar(
                select(ServiceCost.id).where(
                    ServiceCost.service_id == service.id, ServiceCost.fiscal_year == year
                )
            )
            if exists is not None:
                continue
            for month, amount in _figures(seed).items():
                set_cost(session, seed.code, year, month, amount, SYSTEM, "初期値")
                added += 1
    return added


def _figures(seed: ServiceSeed) -> dict[int, int]:
    if not seed.monthly_weights:
        return {0: seed.annual_cost}
    total_weight = sum(seed.monthly_weights.values())
    months = list(seed.monthly_weights)
    figures = {m: seed.annual_cost * seed.monthly_weights[m] // total_weight for m in months}
    # Rounding leftovers go to the heaviest month, so the year adds up exactly.
    heaviest = max(months, key=lambda m: seed.monthly_weights[m])
    figures[heaviest] += seed.annual_cost - sum(figures.values())
    return figures
