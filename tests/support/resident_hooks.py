"""Host hooks for tests that check what the plugin tells the host about residents' choices."""

from __future__ import annotations

from starlette.requests import Request

from portal_plugin.hooks import ConsentChange, PortalHooks


class RecordingHooks(PortalHooks):
    """The host's side of `consent_changed`, recorded so the test can see it fired."""

    def __init__(self, settings: object) -> None:
        super().__init__(settings)  # type: ignore[arg-type]
        self.changes: list[ConsentChange] = []

    def consent_changed(self, request: Request, change: ConsentChange) -> None:
        self.changes.append(change)
