"""Every point where the host portal plugs into the marketplace, each with a default.

A host passes its own `PortalHooks` subclass to `create_app(settings, hooks=...)` and
overrides only what it needs. Each public method is one hook; a test checks they are documented.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from markupsafe import Markup
from starlette.requests import Request

from portal_plugin.identity import HEADER, InvalidIdentityToken, ResidentIdentity, VerifiedTokens
from portal_plugin.settings import Settings


@dataclass(frozen=True)
class PageChrome:
    """The host's header and footer, wrapped around every page the plugin renders."""

    header_html: Markup
    footer_html: Markup
    site_name: str = "会津若松+"


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


__all__ = ["InvalidIdentityToken", "PageChrome", "PortalHooks"]
