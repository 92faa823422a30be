"""Domain errors of the analytics package. Messages are Japanese and name the field at fault."""

from __future__ import annotations


class AnalyticsError(Exception):
    """Base class; `field` names the input at fault when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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
    pass


class UnknownBooking(AnalyticsError):
    pass
