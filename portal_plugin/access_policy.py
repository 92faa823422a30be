"""Who may call each of the plugin's routes: one declared rule per route name.

The route table is the source of truth for what exists; this table is the source of truth for
who may use it. `tests/proof/test_access_matrix.py` walks the app's own routes and fails when a
route has no rule here (or a rule names a route that no longer exists), then calls every route
as every party and checks the answer. Guards in the code (`require_staff`) must agree with it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from marketplace.vocab import StaffRole


class Party(enum.StrEnum):
    ANYONE = "anyone"  # no credentials at all
    RESIDENT = "resident"  # signed X-Portal-Resident token from the host portal
    SHOP = "shop"  # a shop's own login (cookie session); only ever its own shop's data
    REVIEWER = StaffRole.REVIEWER.value
    FINANCE = StaffRole.FINANCE.value
    ADMIN = StaffRole.ADMIN.value
    HOST_CMS = "host_cms"  # the host CMS, by bearer API key (article push)
    STRIPE = "stripe"  # Stripe webhooks, by signature on the raw body


STAFF_PARTIES = frozenset({Party.REVIEWER, Party.FINANCE, Party.ADMIN})


@dataclass(frozen=True)
class Access:
    allowed: frozenset[Party]
    why: str

    @property
    def public(self) -> bool:
        return Party.ANYONE in self.allowed

    def allows(self, party: Party) -> bool:
        return self.public or party in self.allowed


def public(why: str) -> Access:
    return Access(frozenset({Party.ANYONE}), why)


def only(*parties: Party, why: str) -> Access:
    return Access(frozenset(parties), why)


def staff(*roles: StaffRole, why: str) -> Access:
    """Staff with one of `roles`; administrators always, as `require_staff` does."""
    chosen = {Party(role.value) for role in roles} | {Party.ADMIN}
    return Access(frozenset(chosen), why)


ALL_STAFF = (StaffRole.REVIEWER, StaffRole.FINANCE, StaffRole.ADMIN)

ROUTE_ACCESS: dict[str, Access] = {
    "health": public("monitoring; reveals only whether the database answers"),
    "resident_me": only(Party.RESIDENT, why="a resident's own profile, from their own token"),
    "list_articles": public("published articles are public information"),
    "put_article": only(Party.HOST_CMS, why="only the host CMS publishes articles"),
    "feed_fragment": public("anonymous visitors get the general feed; residents their own"),
    "staff_login": public("the login form"),
    "staff_login_submit": public("logging in; rate-limited per address and account"),
    "staff_logout": public("ends whatever session the caller has; harmless without one"),
    "staff_home": staff(*ALL_STAFF, why="the staff menu"),
    "static": public("stylesheets and scripts"),
    # Delivery (issue 5): the feed is public; tracking URLs are authorised by their signed token.
    "api_feed": public("anonymous visitors get the general feed; residents their own"),
    "ad_impression": public("counted only with a valid, unexpired, unused signed offer token"),
    "ad_click": public("counted only with a valid signed offer token; redirects to the ad"),
    # Billing (issue 6).
    "stripe_webhook": only(Party.STRIPE, why="Stripe, proved by the signature on the raw body"),
    "billing_invoices": staff(StaffRole.FINANCE, why="finance: all invoices"),
    "billing_invoice": staff(StaffRole.FINANCE, why="finance: one invoice"),
    "billing_invoice_pdf": staff(StaffRole.FINANCE, why="finance: an invoice's PDF"),
    "billing_aging": staff(StaffRole.FINANCE, why="finance: receivables by age"),
    "billing_bank": staff(StaffRole.FINANCE, why="finance: bank statement matching"),
    "billing_bank_import": staff(StaffRole.FINANCE, why="finance: importing a bank statement"),
    "billing_bank_resolve": staff(StaffRole.FINANCE, why="finance: assigning a bank line"),
    "billing_refunds": staff(StaffRole.FINANCE, why="finance: refunds"),
    "billing_refund_paid_out": staff(StaffRole.FINANCE, why="finance: marking a refund paid"),
}


class MissingAccessRule(LookupError):
    pass


def access_for(route_name: str) -> Access:
    try:
        return ROUTE_ACCESS[route_name]
    except KeyError:
        raise MissingAccessRule(
            f"route {route_name!r} has no rule in portal_plugin/access_policy.py ROUTE_ACCESS"
        ) from None
