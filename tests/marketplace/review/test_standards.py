from __future__ import annotations

from pathlib import Path

import pytest

from marketplace.errors import InvalidInput
from marketplace.review.standards import load_policy, parse_policy, precheck, save_policy

POLICY = load_policy()


def flags_for(headline: str, body: str = "") -> list[tuple[str, str, str]]:
    return [
        (flag.rule_id, flag.field, flag.text)
        for flag in precheck(POLICY, {"headline": headline, "body": body})
    ]


def test_shipped_policy_covers_the_city_categories() -> None:
    ids = {rule.id for rule in POLICY.rules}
    for category in (
        "political",
        "religious",
        "consumer_finance",
        "gambling",
        "adult",
        "tobacco",
        "fortune_telling",
        "mlm",
    ):
        assert f"category.{category}" in ids


def test_clean_ad_has_no_flags() -> None:
    assert flags_for("会津の地酒、試飲できます", "鶴ヶ城から徒歩5分。冬季限定の純米酒。") == []


def test_superlatives_are_flagged_with_rule_field_and_text() -> None:
    assert flags_for("日本一のソースカツ丼", "絶対においしい") == [
        ("superlative.unproven", "headline", "日本一"),
        ("superlative.unproven", "body", "絶対"),
    ]


def test_ui_imitation() -> None:
    assert ("ui.imitation", "body", "閉じる") in flags_for("春のセール", "× 閉じる")


def test_prohibited_categories() -> None:
    assert flags_for("即日融資OK")[0][0] == "category.consumer_finance"
    assert flags_for("よく当たる占い")[0][0] == "category.fortune_telling"
    assert flags_for("権利収入で自由に")[0][0] == "category.mlm"


def test_full_width_and_case_tricks_still_match_and_quote_the_original() -> None:
    assert flags_for("ＮＯ．１の味") == [("superlative.unproven", "headline", "ＮＯ．１")]


def test_every_occurrence_is_reported() -> None:
    assert len(flags_for("絶対 絶対 絶対")) == 3


def test_invalid_policy_is_refused_with_a_reason() -> None:
    with pytest.raises(InvalidInput, match="TOML"):
        parse_policy("version = [")
    with pytest.raises(InvalidInput):
        parse_policy("version = 1\n[[rules]]\nid='a'\nlabel='A'\nkind='nope'\nterms=['x']")
    with pytest.raises(InvalidInput):
        parse_policy(
            "version = 1\n[[rules]]\nid='a'\nlabel='A'\nkind='word'\nterms=['x']\n"
            "[[rules]]\nid='a'\nlabel='B'\nkind='word'\nterms=['y']"
        )
    with pytest.raises(InvalidInput):
        parse_policy("version = 1\n[[rules]]\nid='a'\nlabel='A'\nkind='word'\nterms=[]")


def test_save_replaces_the_file_atomically(tmp_path: Path) -> None:
    target = tmp_path / "policy.toml"
    target.write_text(POLICY.source, encoding="utf-8")
    with pytest.raises(InvalidInput):
        save_policy(target, "broken = [")
    assert target.read_text(encoding="utf-8") == POLICY.source
    new = "version = 2\n[[rules]]\nid='w'\nlabel='W'\nkind='word'\nterms=['激安']\n"
    assert save_policy(target, new).version == 2
    assert load_policy(target).rules[0].terms == ("激安",)
    assert list(tmp_path.iterdir()) == [target]
