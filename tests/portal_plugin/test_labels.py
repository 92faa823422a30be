"""Every vocabulary code has a label, in Japanese and in English, and audit actions too."""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from marketplace.accounts.shops import SHOP_DECISIONS
from marketplace.lifecycle import BookingStatus
from marketplace.vocab import Household
from portal_plugin import i18n
from portal_plugin.dates import tokyo_time
from portal_plugin.labels import (
    AUDIT_ACTION_LABELS,
    ENUM_LABELS,
    STRING_LABELS,
    creative_field_label,
    label,
    targeting_label,
)

ROOT = Path(__file__).resolve().parents[2]
# record(session, actor, "action", ...): the action is the third argument.
LITERAL_ACTION = re.compile(r'[^_]record\(\s*\w+,\s*[\w ]+,\s*"([a-z_]+)"', re.S)
CHOSEN_ACTION = re.compile(r'"(\w+)" if \w+ else "(\w+)"')


def test_every_member_of_every_enum_vocabulary_has_a_label() -> None:
    missing = [
        f"{vocabulary.__name__}.{member.name}"
        for vocabulary, labels in ENUM_LABELS.items()
        for member in vocabulary
        if isinstance(member, enum.Enum) and member.value not in labels
    ]
    assert not missing


def test_every_label_has_english() -> None:
    english = i18n.catalogue("en")
    texts = {text for labels in ENUM_LABELS.values() for text in labels.values()}
    texts |= {text for labels in STRING_LABELS.values() for text in labels.values()}
    assert sorted(text for text in texts if text not in english) == []


def source_actions() -> set[str]:
    actions: set[str] = set()
    for package in ("marketplace", "billing", "analytics", "portal_plugin"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            actions.update(LITERAL_ACTION.findall(text))
            if "record(" in text:
                for pair in CHOSEN_ACTION.findall(text):
                    actions.update(pair)
    return actions


def test_every_audited_action_has_a_label() -> None:
    actions = source_actions()
    assert {"booking_confirmed", "creative_approved", "disaster_mode_on"} <= actions
    # Built from values: the schedule's moves and the staff's shop decisions.
    actions |= {f"booking_{status}" for status in ("scheduled", "live", "completed")}
    actions |= {f"shop_{decision}" for decision in SHOP_DECISIONS}
    assert sorted(actions - set(AUDIT_ACTION_LABELS)) == []


def test_labels_follow_the_page_language() -> None:
    assert label(BookingStatus.IN_REVIEW) == "素材審査中"
    assert targeting_label("households", Household.YOUNG_CHILDREN) == "未就学児のいる世帯"
    assert targeting_label("districts", "tsuruga") == "鶴城"
    assert targeting_label("interests", "除雪") == "除雪"
    assert creative_field_label("page_2") == "2ページ目"
    token = i18n.current_language.set("en")
    try:
        assert label(BookingStatus.IN_REVIEW) == "Creative in review"
        assert label("booking_confirmed", "audit_action") == "Booking confirmed"
        assert creative_field_label("page_2") == "Page 2"
        assert creative_field_label("headline") == "Headline"
    finally:
        i18n.current_language.reset(token)


def test_a_misspelt_vocabulary_is_a_programming_error() -> None:
    with pytest.raises(LookupError):
        label("tsuruga", "distrcit")


def test_times_are_shown_in_tokyo() -> None:
    assert tokyo_time(datetime(2026, 12, 4, 15, 30, tzinfo=UTC)) == "2026-12-05 00:30"
    assert tokyo_time(None) == "—"
    with pytest.raises(ValueError):
        tokyo_time(datetime(2026, 12, 4, 15, 30))  # naive on purpose
