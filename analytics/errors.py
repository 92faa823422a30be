"""Analytics' domain errors, in the shape every package shares (`marketplace.errors.DomainError`).

Messages are Japanese and start with the field at fault (`"{field}: …"`), because finance staff
type these values into forms and CSV files where the field name is what they look for.
"""

from __future__ import annotations

from marketplace.errors import DomainError


class AnalyticsError(DomainError):
    code = "invalid_input"
    status = 422
    template = "{field}: 入力内容に誤りがあります"


class InvalidAmount(AnalyticsError):
    pass


class InvalidPeriod(AnalyticsError):
    pass


class UnknownService(AnalyticsError):
    pass


class CostPeriodConflict(AnalyticsError):
    pass


class InvalidAllocationRule(AnalyticsError):
    pass


class UnknownResident(AnalyticsError):
    code = "not_found"
    status = 404


class UnknownBooking(AnalyticsError):
    code = "not_found"
    status = 404
