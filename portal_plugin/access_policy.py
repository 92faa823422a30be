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


def shop_only(why: str) -> Access:
    """A logged-in shop user (or the shop's API token), for that shop's own data only."""
    return Access(frozenset({Party.SHOP}), why)


def staff(*roles: StaffRole, why: str) -> Access:
    """Staff with one of `roles`; administrators always, as `require_staff` does."""
    chosen = {Party(role.value) for role in roles} | {Party.ADMIN}
    return Access(frozenset(chosen), why)


ALL_STAFF = (StaffRole.REVIEWER, StaffRole.FINANCE, StaffRole.ADMIN)

ROUTE_ACCESS: dict[str, Access] = {
    "health": public(
        "monitoring; reveals whether the database answers and each periodic job's last run, "
        "outcome and lateness (no messages)"
    ),
    "resident_me": only(Party.RESIDENT, why="a resident's own profile, from their own token"),
    # Residents in control (issue 17): their own ad choices, from their own token; each form
    # also carries a token signed for that resident (portal_plugin/resident_forms.py).
    "about_ads": public("how ads are chosen; a resident also sees their own ad settings"),
    "resident_hide_shop": only(Party.RESIDENT, why="a resident hiding a shop's ads for themself"),
    "resident_show_shop": only(Party.RESIDENT, why="a resident undoing their own hidden shop"),
    "resident_personalized_ads": only(
        Party.RESIDENT, why="a resident turning their own personalised ads off or on"
    ),
    "resident_data": only(
        Party.RESIDENT, why="「あなたのデータ」: what the plugin holds about them"
    ),
    "resident_data_download": only(Party.RESIDENT, why="a resident's own data, as a JSON file"),
    "resident_data_delete": only(
        Party.RESIDENT, why="a resident deleting their own data (privacy forget's code)"
    ),
    "list_articles": public("published articles are public information"),
    "put_article": only(Party.HOST_CMS, why="only the host CMS publishes articles"),
    "feed_fragment": public("anonymous visitors get the general feed; residents their own"),
    "side_fragment": public("the gadget column's ad cards; residents get their own"),
    "staff_login": public("the login form"),
    "staff_login_submit": public("logging in; rate-limited per address and account"),
    "staff_logout": public("ends whatever session the caller has; harmless without one"),
    "staff_home": staff(*ALL_STAFF, why="the staff menu"),
    "staff_jobs": staff(why="administrators: the periodic jobs' last runs and errors"),
    # Also a Prometheus server on this machine (loopback and not through a proxy): see
    # portal_plugin/routes/metrics.py. Everyone else gets 403.
    "metrics": staff(why="administrators: serving, event and job figures for monitoring"),
    "static": public("stylesheets and scripts"),
    # Delivery (issue 5): the feed is public; tracking URLs are authorised by their signed token.
    "api_feed": public("anonymous visitors get the general feed; residents their own"),
    "ad_impression": public("counted only with a valid, unexpired, unused signed offer token"),
    "ad_click": public("counted only with a valid signed offer token; redirects to the ad"),
    "house_ad_view": public("a city house ad's view, counted once per signed one-time token"),
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
    # Marketplace (issue 3): shops see and change only their own shop's data.
    "shop_signup": public("the sign-up form"),
    "shop_signup_submit": public("signing up; rate-limited per address"),
    "shop_login": public("the shop login form"),
    "shop_login_submit": public("logging in; rate-limited per address and account"),
    "shop_password_forgot": public("asking for a password-reset link"),
    "shop_password_change": shop_only("a signed-in shop user changes their own password"),
    "shop_password_change_submit": shop_only(
        "needs the current password; an API token has no password and is refused"
    ),
    "shop_password_forgot_submit": public(
        "the same answer whether or not the address has an account; rate-limited per address"
        " and per account; the mail goes only to the account's own address"
    ),
    "shop_password_reset": public("authorised by the signed, expiring, single-use link itself"),
    "shop_password_reset_submit": public("authorised by the signed, expiring, single-use link"),
    "shop_logout": public("ends whatever session the caller has"),
    "shop_tokens": shop_only("the shop's own API tokens"),
    "shop_token_create": shop_only("creating an API token for the shop"),
    "shop_token_revoke": shop_only("revoking one of the shop's own tokens"),
    "shop_dashboard": shop_only("the shop's own dashboard"),
    "shop_availability": shop_only("free ad slots for booking"),
    "shop_book": shop_only("the booking form"),
    "shop_quote": shop_only("a price quote"),
    "shop_hold": shop_only("holding slots for the shop"),
    "shop_booking": shop_only("one of the shop's own bookings"),
    "shop_confirm": shop_only("confirming one of the shop's own bookings"),
    "shop_cancel": shop_only("cancelling one of the shop's own bookings"),
    "shop_creatives": shop_only("the shop's own ads"),
    "shop_creative_new": shop_only("the new-ad form"),
    "shop_creative_create": shop_only("creating an ad for the shop"),
    "shop_creative": shop_only("one of the shop's own ads"),
    "shop_creative_edit": shop_only("editing one of the shop's own ads"),
    "creative_image": public("approved images are public; others only for the owner and staff"),
    "staff_marketplace": staff(StaffRole.REVIEWER, StaffRole.FINANCE, why="marketplace menu"),
    "staff_disaster_mode": staff(
        StaffRole.REVIEWER, StaffRole.FINANCE, why="switching ads off in a disaster"
    ),
    "staff_shops": staff(StaffRole.REVIEWER, why="shops awaiting approval"),
    "staff_shop_decision": staff(StaffRole.REVIEWER, why="approving or suspending a shop"),
    "staff_shop_rename": staff(StaffRole.REVIEWER, why="approving or rejecting a shop's new name"),
    "staff_review_queue": staff(StaffRole.REVIEWER, why="ads awaiting review"),
    "staff_review": staff(StaffRole.REVIEWER, why="one ad under review"),
    "staff_review_approve": staff(StaffRole.REVIEWER, why="approving an ad"),
    "staff_review_reject": staff(StaffRole.REVIEWER, why="rejecting an ad"),
    "staff_audit": staff(StaffRole.REVIEWER, StaffRole.FINANCE, why="the audit log"),
    "staff_ad_standards": staff(StaffRole.REVIEWER, why="the ad standards"),
    "staff_ad_standards_save": staff(why="changing the ad standards: administrators only"),
    "staff_inventory": staff(StaffRole.REVIEWER, StaffRole.FINANCE, why="ad inventory"),
    "staff_reach": staff(
        StaffRole.REVIEWER, StaffRole.FINANCE, why="forecast vs sold per placement-week"
    ),
    "staff_placement_save": staff(why="changing placements and prices: administrators only"),
    "staff_placement": staff(why="editing a placement: administrators only"),
    "staff_house_ads": staff(StaffRole.REVIEWER, why="the city's own house ads and their counts"),
    "staff_house_ad_save": staff(StaffRole.REVIEWER, why="creating or editing a house ad"),
    "staff_house_ad": staff(StaffRole.REVIEWER, why="editing a house ad"),
    "staff_house_ad_retire": staff(StaffRole.REVIEWER, why="retiring a house ad"),
    "staff_booking_pause": staff(StaffRole.REVIEWER, why="pausing a booking"),
    "staff_booking_resume": staff(StaffRole.REVIEWER, why="resuming a booking"),
    "staff_booking_cancel": staff(StaffRole.REVIEWER, why="cancelling a booking"),
    "placements": shop_only("API: placements and prices"),
    "availability": shop_only("API: free slots"),
    "quote": shop_only("API: a price quote"),
    "list_bookings": shop_only("API: the shop's own bookings"),
    "hold": shop_only("API: holding slots"),
    "get_booking": shop_only("API: one of the shop's own bookings"),
    "confirm": shop_only("API: confirming one of the shop's own bookings"),
    "cancel": shop_only("API: cancelling one of the shop's own bookings"),
    "list_creatives": shop_only("API: the shop's own ads"),
    "create": shop_only("API: creating an ad"),
    "openapi": public("the API description"),
    # Analytics (issue 7).
    "finance_dashboard": staff(StaffRole.FINANCE, why="revenue and the offset of running costs"),
    "finance_export": staff(StaffRole.FINANCE, why="finance exports"),
    "finance_chart": staff(StaffRole.FINANCE, why="finance charts"),
    "finance_costs": staff(StaffRole.FINANCE, why="running costs"),
    "finance_costs_save": staff(StaffRole.FINANCE, why="recording running costs"),
    "finance_allocation_save": staff(StaffRole.FINANCE, why="cost allocation rules"),
    "transparency": public("the public page on what ads pay for"),
    "shop_profile": shop_only("the shop's own profile"),
    "shop_profile_save": shop_only("changing the shop's own profile"),
    "shop_booking_creative": shop_only("choosing the ad for one of the shop's own bookings"),
    "shop_reports": shop_only("the shop's own reports"),
    "shop_report": shop_only("the report of one of the shop's own bookings"),
    "shop_report_csv": shop_only("a CSV of one of the shop's own reports"),
    "staff_shop_report": staff(StaffRole.FINANCE, StaffRole.REVIEWER, why="a booking's report"),
    "staff_shop_report_csv": staff(StaffRole.FINANCE, StaffRole.REVIEWER, why="its CSV"),
    "choose_creative": shop_only("API: choosing the ad for one of the shop's own bookings"),
    "api_staff_review_queue": staff(StaffRole.REVIEWER, why="API: ads awaiting review"),
    "api_staff_approve": staff(StaffRole.REVIEWER, why="API: approving an ad"),
    "api_staff_reject": staff(StaffRole.REVIEWER, why="API: rejecting an ad"),
    "api_staff_shop_decision": staff(StaffRole.REVIEWER, why="API: approving a shop"),
    "api_staff_booking_pause": staff(StaffRole.REVIEWER, why="API: pausing a booking"),
    "api_staff_booking_resume": staff(StaffRole.REVIEWER, why="API: resuming a booking"),
    "api_staff_disaster_mode": staff(
        StaffRole.REVIEWER, StaffRole.FINANCE, why="API: whether ads are stopped"
    ),
    "api_staff_disaster_mode_switch": staff(
        StaffRole.REVIEWER, StaffRole.FINANCE, why="API: stopping all ads in a disaster"
    ),
    "billing_invoice_css": public("the invoice stylesheet"),
    "shop_billing": shop_only("the shop's own invoices"),
    "shop_invoice": shop_only("one of the shop's own invoices"),
    "shop_invoice_pdf": shop_only("the PDF of one of the shop's own invoices"),
    "shop_invoice_pay": shop_only("paying one of the shop's own invoices"),
    "shop_pay": shop_only("paying for one of the shop's own bookings"),
    "shop_pay_invoice": shop_only("paying a booking by invoice"),
    "shop_pay_card": shop_only("paying a booking by card"),
    "shop_pay_card_return": shop_only("returning from card authentication"),
    # Flyers and shop pages (issue 21).
    "shop_flyer_new": shop_only("the new-flyer form"),
    "shop_flyer_create": shop_only("uploading a flyer for the shop"),
    "shop_flyer": shop_only("one of the shop's own flyers"),
    "shop_flyer_edit": shop_only("editing one of the shop's own flyers"),
    "flyer_viewer": public("an approved flyer within its 掲載期間; nothing otherwise"),
    "flyer_page_image": public("pages of a flyer on show; others only for the owner and staff"),
    "shop_page": public("an approved shop's page: what the shop chose to publish"),
    "shop_page_settings": shop_only("the shop's own page settings"),
    "shop_page_settings_save": shop_only("changing the shop's own page"),
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
