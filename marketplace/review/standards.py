"""The city's ad standards (広告掲載基準): the policy file and the automatic pre-check.

The pre-check finds every occurrence of every rule's terms in a creative's text, after Unicode
normalisation (NFKC, case-folded), so full-width 「ＮＯ．１」 or 「絶 対」-style tricks with
compatibility characters still match. It flags; a human reviewer decides.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from marketplace.errors import InvalidInput

DEFAULT_POLICY_PATH: Final = Path(__file__).with_name("ad_standards.toml")
RULE_KINDS: Final = ("category", "word", "superlative", "ui_imitation", "impersonation")
# Characters that look like those of the city's name but NFKC keeps apart.
LOOKALIKES: Final = str.maketrans({"巿": "市", "會": "会"})
MAX_POLICY_BYTES: Final = 100_000


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    kind: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    version: int
    rules: tuple[Rule, ...]
    source: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()[:12]

    def rule(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)


@dataclass(frozen=True)
class Flag:
    rule_id: str
    rule_label: str
    kind: str
    field: str
    text: str
    position: int

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule_id,
            "label": self.rule_label,
            "kind": self.kind,
            "field": self.field,
            "text": self.text,
            "position": self.position,
        }


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def parse_policy(source: str) -> Policy:
    """Parse and validate policy TOML; InvalidInput names the problem for the staff editor."""
    if len(source.encode()) > MAX_POLICY_BYTES:
        raise InvalidInput("基準ファイルが大きすぎます", field="policy")
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            "TOMLの書式に誤りがあります: {error}", field="policy", error=str(exc)
        ) from None
    version = data.get("version")
    raw_rules = data.get("rules")
    if not isinstance(version, int) or not isinstance(raw_rules, list) or not raw_rules:
        raise InvalidInput("version と [[rules]] が必要です", field="policy")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules, start=1):
        rule_id, label, kind, terms = (
            raw.get("id"),
            raw.get("label"),
            raw.get("kind"),
            raw.get("terms"),
        )
        if not (isinstance(rule_id, str) and rule_id and isinstance(label, str) and label):
            raise InvalidInput("{n}番目のルールに id と label が必要です", field="policy", n=index)
        if rule_id in seen:
            raise InvalidInput("ルールID {id} が重複しています", field="policy", id=rule_id)
        if kind not in RULE_KINDS:
            raise InvalidInput(
                "ルール {id} の kind は {kinds} のいずれかにしてください",
                field="policy",
                id=rule_id,
                kinds=", ".join(RULE_KINDS),
            )
        if not (
            isinstance(terms, list)
            and terms
            and all(isinstance(t, str) and t.strip() for t in terms)
        ):
            raise InvalidInput(
                "ルール {id} の terms は空でない文字列の一覧にしてください",
                field="policy",
                id=rule_id,
            )
        seen.add(rule_id)
        rules.append(Rule(rule_id, label, str(kind), tuple(t.strip() for t in terms)))
    return Policy(version, tuple(rules), source)


def load_policy(path: Path = DEFAULT_POLICY_PATH) -> Policy:
    return parse_policy(path.read_text(encoding="utf-8"))


def save_policy(path: Path, source: str) -> Policy:
    """Validate, then replace the file atomically so readers never see half a policy."""
    policy = parse_policy(source)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".ad_standards.", suffix=".toml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as output:
            output.write(source)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return policy


def precheck(policy: Policy, fields: dict[str, str]) -> list[Flag]:
    """Every occurrence of every rule's terms in the given fields, in reading order."""
    flags: list[Flag] = []
    for field, text in fields.items():
        haystack = _normalise(text)
        # Quote the creative's own characters when normalising kept the length (usual case).
        aligned = len(haystack) == len(text)
        for rule in policy.rules:
            for term in rule.terms:
                needle = _normalise(term)
                start = haystack.find(needle)
                while start != -1:
                    found = text[start : start + len(needle)] if aligned else term
                    flags.append(Flag(rule.id, rule.label, rule.kind, field, found, start))
                    start = haystack.find(needle, start + len(needle))
    return sorted(flags, key=lambda flag: (list(fields).index(flag.field), flag.position))


def squeeze_name(text: str) -> str:
    """A name as it reads: NFKC, case-folded, look-alike characters mapped, and spaces,
    punctuation, symbols and invisible characters removed (「市　役・所」 reads 市役所)."""
    folded = _normalise(text).translate(LOOKALIKES)
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "ZPSC")


def name_flags(policy: Policy, name: str) -> list[Rule]:
    """The impersonation rules whose terms a shop's name contains, as it reads."""
    squeezed = squeeze_name(name)
    return [
        rule
        for rule in policy.rules
        if rule.kind == "impersonation"
        and any(squeeze_name(term) in squeezed for term in rule.terms)
    ]
