"""Driving Debian's chromium through Playwright: launch options, screenshots, axe-core checks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import ConsoleMessage, Page, Response

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags chromium keeps calling out, and this machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
AXE_SCRIPT = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def artifact_dir(test_name: str) -> Path:
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Journey:
    """One browser page plus a numbered screenshot per step and the console errors it saw."""

    page: Page
    folder: Path
    step: int = 0
    console_errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.page.on("response", self._on_response)

    def _on_console(self, message: ConsoleMessage) -> None:
        # CSP violations and script errors show up here. 4xx answers the test provoked on
        # purpose (a wrong password) are logged as "Failed to load resource" and judged by the
        # test itself; 5xx answers are caught in _on_response.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(message.text)

    def _on_response(self, response: Response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")

    def assert_clean(self) -> None:
        assert self.console_errors == [], self.console_errors
        assert self.server_errors == [], self.server_errors

    def shot(self, name: str) -> Path:
        self.step += 1
        path = self.folder / f"{self.step:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the current page; return the serious and critical violations."""
    if not AXE_SCRIPT.is_file():
        raise RuntimeError(f"axe-core is missing at {AXE_SCRIPT}; run `bash scripts/axe.sh`")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Not add_script_tag: that inlines a <script>, which the page's strict CSP rightly
        # blocks. DevTools evaluation runs beside the page's policy without weakening it.
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = [node.get("target") for node in violation.get("nodes", [])][:3]
        lines.append(f"{violation['impact']}: {violation['id']} {violation['help']} at {targets}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, "axe-core found:\n" + describe_violations(violations)


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return int(
        page.evaluate("() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")
    )


def enlarge_text(page: Page, percent: int = 200) -> None:
    """Large text as an older resident sets it: scale the root font size."""
    page.evaluate(f"() => {{ document.documentElement.style.fontSize = '{percent}%'; }}")


def dump(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def wider_than_screen(page: Page) -> list[str]:
    """Empty when the document is no wider than the viewport; else the elements that stick out."""
    if page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth"):
        return []
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .map(e => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px`)
            .slice(0, 8)"""
    )
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    return [f"document {width}px", *found]


def small_touch_targets(page: Page) -> list[str]:
    """Visible links, buttons, fields and summaries lower than 44 px (WCAG 2.5.5), unless the
    label that holds or names them is 44 px high (a checkbox's hit area is its label)."""
    found: list[str] = page.evaluate(
        """() => {
          const tall = e => e && e.getBoundingClientRect().height >= 43.5;
          return [...document.querySelectorAll(
              'a[href], button, input:not([type=hidden]), select, textarea, summary')]
            .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
            .filter(e => e.getBoundingClientRect().right > 0 && e.getBoundingClientRect().bottom > 0)
            .filter(e => !tall(e) && !tall(e.closest('label'))
                         && !(e.id && tall(document.querySelector(`label[for="${e.id}"]`))))
            .map(e => `${e.tagName.toLowerCase()} "${(e.textContent || e.name || e.type || '').trim().slice(0, 30)}" ${Math.round(e.getBoundingClientRect().height)}px`)
        }"""
    )
    return found
