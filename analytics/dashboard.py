"""Assembling the finance dashboard and the offset report from the books (one call each)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy.orm import Session

from analytics import breakdowns, sources
from analytics.costs import annual_cost_lines, current_rule, monthly_costs
from analytics.delivery import delivery_by_placement_month
from analytics.export import ReportTable
from analytics.forecast import Forecast, forecast_year
from analytics.offset import OffsetReport, build_offset_report, services_table, years_table
from marketplace.calendar import start_of_tokyo_day

LABELS = {
    "month": "月",
    "fiscal_year": "年度",
    "revenue": "認識済み広告収入（税抜・円）",
    "running_cost": "運営費（円）",
    "offset_ratio": "広告収入で賄えた割合",
    "name": "サービス",
    "allocated_revenue": "充当した広告収入（円）",
    "kind": "区分",
    "scheduled": "予約済み（円）",
    "placement": "広告枠",
    "week_start": "週（月曜）",
    "capacity": "販売可能シェア",
    "sold": "販売済みシェア",
    "rate": "販売率",
    "category": "業種コード",
    "district": "地区コード",
    "label": "名称",
    "shops": "店舗数",
    "share": "構成比",
    "shop_name": "店舗",
    "status": "区分",
    "revenue_this_year": "今年度の収入（円）",
    "revenue_last_year": "前年度の収入（円）",
    "invoice_number": "請求書番号",
    "issued_on": "発行日",
    "due_on": "支払期日",
    "outstanding": "未収額（円）",
    "days_overdue": "期日超過日数",
    "bucket": "経過区分",
    "owed": "予定表示回数",
    "delivered": "有効な表示回数",
    "share_bought": "購入シェア（平均）",
    "share_delivered": "配信シェア（平均）",
    "delivery_rate": "予定に対する配信",
    "make_good_yen": "配信不足の補償（税込・円）",
}


def load_offset_report(session: Session, fiscal_year: int) -> OffsetReport:
    rule = current_rule(session)
    return build_offset_report(
        fiscal_year,
        sources.revenue_by_month(session, fiscal_year),
        monthly_costs(session, fiscal_year),
        rule.method,
        rule.priority_order,
    )


@dataclass(frozen=True)
class Dashboard:
    fiscal_year: int
    as_of: date
    report: OffsetReport
    years: pd.DataFrame
    forecast: Forecast
    sellthrough: pd.DataFrame
    sellthrough_summary: pd.DataFrame
    by_category: pd.DataFrame
    by_district: pd.DataFrame
    advertisers: pd.DataFrame
    advertiser_counts: dict[str, int]
    receivables: pd.DataFrame
    aging: pd.DataFrame
    delivery: pd.DataFrame

    def tables(self) -> list[ReportTable]:
        """Every table on the page, in page order; each exports to CSV and Excel."""
        months = self.report.months.copy()
        months["month"] = [f"{m:%Y-%m}" for m in months["month"]]
        forecast = self.forecast.months.copy()
        forecast["month"] = [f"{m:%Y-%m}" for m in forecast["month"]]
        forecast["kind"] = forecast["kind"].map({"actual": "実績", "forecast": "予測"})
        return [
            ReportTable("months", "月別の収入と運営費", months, LABELS),
            ReportTable("services", "サービス別の充当", services_table(self.report), LABELS),
            ReportTable("years", "年度別の推移", self.years, LABELS),
            ReportTable("forecast", "年度末までの予測", forecast, LABELS),
            ReportTable("sellthrough", "広告枠・週別の販売率", self.sellthrough, LABELS),
            ReportTable("placements", "広告枠別の販売率", self.sellthrough_summary, LABELS),
            ReportTable("delivery", "広告枠・月別の配信（予定比）", self.delivery, LABELS),
            ReportTable(
                "categories", "業種別の収入", self.by_category, LABELS, frozenset({"category"})
            ),
            ReportTable(
                "districts", "地区別の収入", self.by_district, LABELS, frozenset({"district"})
            ),
            ReportTable("advertisers", "新規・継続・離脱の広告主", self.advertisers, LABELS),
            ReportTable("receivables", "未収金", self.receivables, LABELS),
            ReportTable("aging", "未収金の経過区分", self.aging, LABELS),
        ]

    def table(self, key: str) -> ReportTable | None:
        return next((table for table in self.tables() if table.key == key), None)


def load_dashboard(session: Session, fiscal_year: int, as_of: date) -> Dashboard:
    report = load_offset_report(session, fiscal_year)
    history = [load_offset_report(session, year) for year in (fiscal_year - 2, fiscal_year - 1)]
    annual_cost = sum(line.running_cost for line in annual_cost_lines(session, fiscal_year))
    forecast = forecast_year(
        fiscal_year,
        as_of,
        sources.revenue_history(session, fiscal_year),
        sources.scheduled_revenue(session, fiscal_year),
        annual_cost,
    )
    weeks = sources.sellthrough_weeks(session, fiscal_year)
    by_booking = sources.booking_revenue(session, fiscal_year)
    advertisers = breakdowns.advertiser_status(
        sources.advertiser_revenue(session, fiscal_year), fiscal_year
    )
    aging = breakdowns.receivables_aging(sources.open_invoices(session), as_of)
    return Dashboard(
        fiscal_year=fiscal_year,
        as_of=as_of,
        report=report,
        years=years_table([*history, report]),
        forecast=forecast,
        sellthrough=breakdowns.sellthrough(weeks),
        sellthrough_summary=breakdowns.sellthrough_by_placement(weeks),
        by_category=breakdowns.revenue_by(by_booking, "category"),
        by_district=breakdowns.revenue_by(by_booking, "district"),
        advertisers=advertisers,
        advertiser_counts=breakdowns.advertiser_counts(advertisers),
        receivables=aging,
        aging=breakdowns.aging_summary(aging),
        delivery=delivery_by_placement_month(
            session, fiscal_year, start_of_tokyo_day(as_of + timedelta(days=1))
        ),
    )
