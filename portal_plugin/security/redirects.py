"""Where a login may send the user next: only to a page of its own area on this site.

The `next` of a login form is attacker-controlled (a link can carry any value). A target is
followed only when a browser would resolve it to a path under the area's prefix; anything it
would read differently from us is refused rather than repaired.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

MAX_TARGET = 2048
# Browsers drop these anywhere in a URL, and read "\" as "/".
_BROWSER_IGNORED = ("\t", "\n", "\r")


def local_target(target: str | None, area: str) -> str | None:
    """`target` when it is a path on this site under `area` (e.g. "/marketplace/shop/"), else
    None."""
    if not target or len(target) > MAX_TARGET or not area.endswith("/"):
        return None
    if any(c in target for c in _BROWSER_IGNORED) or "\\" in target or not target.isprintable():
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.fragment or not parts.path.startswith("/"):
        return None
    path = unquote(parts.path)
    segments = path.split("/")[1:]
    # "..", "." (also as %2e) and empty segments ("//", %2F) resolve somewhere else than read.
    if any(s in {".", ".."} for s in segments) or "" in segments[:-1] or "\\" in path:
        return None
    return target if path.startswith(area) else None
