"""Every point where the host portal plugs into the marketplace, each with a default.

A host passes its own `PortalHooks` subclass to `create_app(settings, hooks=...)` and
overrides only what it needs. Each public method is one hook; a test checks they are documented.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup
from starlette.requests import Request

from portal_plugin.identity import HEADER, InvalidIdentityToken, ResidentIdentity, VerifiedTokens
from portal_plugin.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageChrome:
    """The host's header and footer, wrapped around every page the plugin renders."""

    header_html: Markup
    footer_html: Markup
    site_name: str = "会津若松+"


@dataclass(frozen=True)
class ConsentChange:
    """A resident's ad choices as the plugin holds them after they changed one.

    `what` says which: "hide_shop" / "show_shop" (with `shop_id`), "personalized_ads" (on or
    off), or "forgotten" (the resident deleted their data: no choices left).
    """

    external_id: str
    what: Literal["hide_shop", "show_shop", "personalized_ads", "forgotten"]
    personalized_ads: bool
    hidden_shop_ids: tuple[int, ...]
    shop_id: int | None = None


class PortalHooks:
    """The default host integration: signed header tokens, bearer-key article push, plain chrome."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._tokens = VerifiedTokens(settings.portal_identity_secret)

    def resolve_resident(self, request: Request) -> ResidentIdentity | None:
        """Who the resident is: None when anonymous; raises InvalidIdentityToken when untrusted."""
        token = request.headers.get(HEADER)
        if token is None:
            return None
        return self._tokens.verify(token.strip())

    def authenticate_article_push(self, request: Request) -> bool:
        """Whether a request to the article push API carries the host CMS's API key."""
        expected = self.settings.article_push_api_key
        supplied = request.headers.get("Authorization", "")
        scheme, _, key = supplied.partition(" ")
        if not expected or scheme.lower() != "bearer" or not key:
            return False
        return hmac.compare_digest(key.strip().encode(), expected.encode())

    def page_chrome(self, request: Request) -> PageChrome:
        """The header and footer around plugin pages; hosts return their own site chrome."""
        prefix = request.scope.get("root_path", "")
        header = Markup(
            '<a class="site-name" href="{home}/">会津若松+ <small>{label}</small></a>'
        ).format(home=prefix, label="地域のお店の広告")
        footer = Markup("<p>会津若松市 · {text}</p>").format(
            text="住民向けサービスは無料です。広告収入はその運営費に充てられます。"
        )
        return PageChrome(header_html=header, footer_html=footer)

    def long_lived_data_loaded(self) -> None:
        """Called on a background thread after each load of the feed's model and rankings."""
        # Nothing by default: process tuning is the server's choice (`serve` freezes them).

    def consent_changed(self, request: Request, change: ConsentChange) -> None:
        """Told after a resident changed their ad choices here, so the host's own setting agrees."""
        # The default host keeps no setting of its own; the choice is stored by the plugin.
        log.info(
            "resident ad choices changed (%s): personalised ads %s, %d shops hidden",
            change.what,
            "on" if change.personalized_ads else "off",
            len(change.hidden_shop_ids),
        )


__all__ = ["ConsentChange", "InvalidIdentityToken", "PageChrome", "PortalHooks"]
