"""The plugin's pages a host links residents to: how ads work, where the money goes, their data.

The feed's JSON carries them (`links`), the feed fragment shows them under the feed, and the
demo portal in its footer, so a host never hard-codes the plugin's paths.
"""

from __future__ import annotations

from functools import cache
from typing import Final

# (key in the feed's `links`, path under the plugin's prefix, the link text residents read)
RESIDENT_LINKS: Final = (
    ("about_ads", "/about-ads", "広告について"),
    ("transparency", "/transparency", "広告の収入と使いみち"),
    ("my_data", "/me", "あなたのデータ"),
)


@cache
def resident_links(prefix: str) -> dict[str, dict[str, str]]:
    """{"about_ads": {"url", "label"}, ...} under `prefix` (shared: never modify the result)."""
    return {key: {"url": prefix + path, "label": label} for key, path, label in RESIDENT_LINKS}
