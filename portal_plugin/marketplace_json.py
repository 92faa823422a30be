"""JSON shapes of marketplace objects for the API, and their OpenAPI component schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from billing.models import Invoice
from marketplace.bookings.services import PricedRequest
from marketplace.delivery.forecast import Forecast
from marketplace.inventory import stock
from marketplace.models import Booking, Placement
from marketplace.queries import CreativeSummary, effective_status


def placement_json(placement: Placement) -> dict[str, Any]:
    return {
        "id": placement.id,
        "code": placement.code,
        "name": placement.name,
        "description": placement.description,
        "kind": placement.kind.value,
        "feed_position": placement.feed_position,
        "image_width": placement.image_width,
        "image_height": placement.image_height,
        "max_image_bytes": placement.max_image_bytes,
        "headline_max_chars": placement.headline_max_chars,
        "body_max_chars": placement.body_max_chars,
        "shares_per_week": placement.shares_per_week,
        "price_per_share_week_yen": placement.price_per_share_week_yen,
        "out_of_city_price_per_share_week_yen": placement.out_of_city_price_per_share_week_yen,
        "term_discounts": placement.term_discounts,
        "targeting_surcharges": placement.targeting_surcharges,
    }


def week_json(week: stock.WeekAvailability) -> dict[str, Any]:
    return {
        "week_start": week.week_start.isoformat(),
        "total": week.total,
        "sold": week.sold,
        "held": week.held,
        "free": week.free,
    }


def quote_json(priced: PricedRequest) -> dict[str, Any]:
    q = priced.quote
    return {
        "placement_id": priced.placement.id,
        "in_city": q.in_city,
        "unit_price_yen": q.unit_price_yen,
        "shares": q.shares,
        "weeks": q.weeks,
        "list_price_yen": q.list_price_yen,
        "discount_percent": q.discount_percent,
        "discount_yen": q.discount_yen,
        "surcharge_percent": q.surcharge_percent,
        "surcharge_yen": q.surcharge_yen,
        "total_yen": q.total_yen,
        "tax_yen": q.tax_yen,
        "net_yen": q.net_yen,
        "available": priced.fits,
        "availability": [week_json(week) for week in priced.availability],
        "reach": reach_json(priced.reach),
    }


def reach_json(reach: Forecast | None) -> dict[str, Any] | None:
    """The reach forecast as a shop may see it: aggregate impressions, never a resident count
    (and no figure at all when fewer than MIN_RESIDENTS residents match)."""
    if reach is None:
        return None
    figures = not reach.suppressed
    return {
        "forecast_impressions": round(reach.deliverable) if figures else None,
        "untargeted_impressions": round(reach.untargeted) if figures else None,
        "forecast_share": round(reach.share, 4) if figures else None,
        "limit": None if reach.limit is None else reach.limit.value,
        "refused": reach.refused,
    }


def booking_json(booking: Booking, now: datetime) -> dict[str, Any]:
    return {
        "id": booking.id,
        "placement_id": booking.placement_id,
        "creative_id": booking.creative_id,
        "status": effective_status(booking, now).value,
        "first_week": booking.first_week.isoformat(),
        "last_week": booking.last_week.isoformat(),
        "weeks": booking.weeks,
        "shares": booking.shares,
        "targeting": booking.targeting,
        "hold_expires_at": booking.hold_expires_at.isoformat() if booking.hold_expires_at else None,
        "list_price_yen": booking.list_price_yen,
        "discount_yen": booking.discount_yen,
        "surcharge_yen": booking.surcharge_yen,
        "total_yen": booking.total_yen,
        "tax_yen": booking.tax_yen,
        "status_reason": booking.status_reason,
    }


def invoice_json(invoice: Invoice) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "total_yen": invoice.total,
        "tax_yen": invoice.tax,
        "payment_method": invoice.payment_method.value,
        "payment_reference": invoice.payment_reference,
    }


def creative_json(summary: CreativeSummary) -> dict[str, Any]:
    latest = summary.latest
    return {
        "id": summary.creative.id,
        "name": summary.creative.name,
        "kind": summary.creative.kind.value,
        "latest_version": {
            "id": latest.id,
            "version": latest.version,
            "status": latest.status.value,
            "headline": latest.headline,
            "body": latest.body,
            "landing_url": latest.landing_url,
            "image_width": latest.image_width,
            "image_height": latest.image_height,
            "decision_reason": latest.decision_reason,
            "precheck_flags": latest.precheck_flags,
        },
        "approved_version_id": summary.approved.id if summary.approved else None,
    }


_INT = {"type": "integer"}
_STR = {"type": "string"}
_DATE = {"type": "string", "format": "date"}
_TARGETING = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        name: {"type": "array", "items": {"type": "string"}}
        for name in ("age_bands", "households", "districts", "interests")
    },
}
WEEK_SCHEMA = {
    "type": "object",
    "required": ["week_start", "total", "sold", "held", "free"],
    "properties": {"week_start": _DATE, "total": _INT, "sold": _INT, "held": _INT, "free": _INT},
}
COMPONENTS: dict[str, Any] = {
    "securitySchemes": {
        "shopToken": {"type": "http", "scheme": "bearer"},
        "staffSession": {"type": "apiKey", "in": "cookie", "name": "pm_session"},
    },
    "schemas": {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": _STR, "message": _STR, "field": _STR},
                }
            },
        },
        "Targeting": _TARGETING,
        "DisasterMode": {
            "type": "object",
            "required": ["disaster_mode", "message"],
            "properties": {
                "disaster_mode": {"type": "boolean"},
                "message": _STR,
                "changed_at": {"type": "string", "format": "date-time", "nullable": True},
                "changed_by_staff_id": {"type": "integer", "nullable": True},
            },
        },
        "Week": WEEK_SCHEMA,
        "Placement": {
            "type": "object",
            "required": [
                "id",
                "code",
                "name",
                "kind",
                "shares_per_week",
                "price_per_share_week_yen",
            ],
            "properties": {
                "id": _INT,
                "code": _STR,
                "name": _STR,
                "description": _STR,
                "kind": {"type": "string", "enum": ["in_feed", "side_gadget"]},
                "feed_position": {"type": "integer", "nullable": True},
                "image_width": _INT,
                "image_height": _INT,
                "max_image_bytes": _INT,
                "headline_max_chars": _INT,
                "body_max_chars": _INT,
                "shares_per_week": _INT,
                "price_per_share_week_yen": _INT,
                "out_of_city_price_per_share_week_yen": _INT,
                "term_discounts": {"type": "array", "items": {"type": "object"}},
                "targeting_surcharges": {"type": "object"},
            },
        },
        "BookingRequest": {
            "type": "object",
            "required": ["placement_id", "first_week", "weeks", "shares"],
            "properties": {
                "placement_id": {"type": "integer", "minimum": 1},
                "first_week": _DATE,
                "weeks": {"type": "integer", "minimum": 1, "maximum": 52},
                "shares": {"type": "integer", "minimum": 1, "maximum": 100},
                "targeting": _TARGETING,
                "creative_id": {"type": "integer", "nullable": True, "minimum": 1},
                "idempotency_key": {"type": "string", "minLength": 8, "maxLength": 64},
            },
        },
        "Quote": {
            "type": "object",
            "required": ["total_yen", "tax_yen", "list_price_yen", "discount_yen", "available"],
            "properties": {
                "placement_id": _INT,
                "in_city": {"type": "boolean"},
                "unit_price_yen": _INT,
                "shares": _INT,
                "weeks": _INT,
                "list_price_yen": _INT,
                "discount_percent": _INT,
                "discount_yen": _INT,
                "surcharge_percent": _INT,
                "surcharge_yen": _INT,
                "total_yen": _INT,
                "tax_yen": _INT,
                "net_yen": _INT,
                "available": {"type": "boolean"},
                "availability": {"type": "array", "items": {"$ref": "#/components/schemas/Week"}},
                "reach": {
                    "type": "object",
                    "nullable": True,
                    "description": "What the booking can really get, from the placement's recent "
                    "traffic (null without any); no figure when fewer than 10 residents match",
                    "properties": {
                        "forecast_impressions": {"type": "integer", "nullable": True},
                        "untargeted_impressions": {"type": "integer", "nullable": True},
                        "forecast_share": {"type": "number", "nullable": True},
                        "limit": {
                            "type": "string",
                            "nullable": True,
                            "enum": ["narrow", "cap", "sold_out", None],
                        },
                        "refused": {"type": "boolean"},
                    },
                },
            },
        },
        "Booking": {
            "type": "object",
            "required": ["id", "status", "first_week", "weeks", "shares", "total_yen", "tax_yen"],
            "properties": {
                "id": _INT,
                "placement_id": _INT,
                "creative_id": {"type": "integer", "nullable": True},
                "status": _STR,
                "first_week": _DATE,
                "last_week": _DATE,
                "weeks": _INT,
                "shares": _INT,
                "targeting": _TARGETING,
                "hold_expires_at": {"type": "string", "nullable": True, "format": "date-time"},
                "list_price_yen": _INT,
                "discount_yen": _INT,
                "surcharge_yen": _INT,
                "total_yen": _INT,
                "tax_yen": _INT,
                "status_reason": _STR,
                "invoice": {
                    "type": "object",
                    "description": "The invoice issued on confirmation (confirm only)",
                    "required": ["number", "total_yen", "tax_yen", "payment_method"],
                    "properties": {
                        "number": _STR,
                        "issue_date": _DATE,
                        "due_date": {"type": "string", "nullable": True, "format": "date"},
                        "total_yen": _INT,
                        "tax_yen": _INT,
                        "payment_method": _STR,
                        "payment_reference": {"type": "string", "nullable": True},
                    },
                },
            },
        },
        "Creative": {
            "type": "object",
            "required": ["id", "name", "kind", "latest_version"],
            "properties": {
                "id": _INT,
                "name": _STR,
                "kind": {"type": "string", "enum": ["ad", "flyer"]},
                "latest_version": {"type": "object"},
                "approved_version_id": {"type": "integer", "nullable": True},
            },
        },
    },
}
