"""Staff-defined placements (ad slots) and their rate card."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.audit import Actor, record
from marketplace.delivery.layout import (
    HostLayout,
    PlacementSpot,
    SlotLayout,
    lay_out,
    newly_unservable,
)
from marketplace.errors import AlreadyExists, InvalidInput, NotFound, PlacementNotServable
from marketplace.inventory.pricing import RateCard
from marketplace.lifecycle import PlacementKind
from marketplace.models import Placement

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
LIMITS: dict[str, tuple[str, int, int]] = {
    "image_width": ("画像の幅", 50, 2000),
    "image_height": ("画像の高さ", 50, 2000),
    "max_image_bytes": ("画像の最大容量", 1_000, 1_000_000),
    "headline_max_chars": ("見出しの最大文字数", 5, 40),
    "body_max_chars": ("本文の最大文字数", 0, 120),
    "shares_per_week": ("週あたりの枠数", 1, 100),
    "price_per_share_week_yen": ("市内価格", 0, 10_000_000),
    "out_of_city_price_per_share_week_yen": ("市外価格", 0, 10_000_000),
}


def parse_placement(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate staff input for a placement; InvalidInput names the field."""
    values: dict[str, Any] = {}
    code = str(data.get("code") or "").strip()
    if not _CODE.match(code):
        raise InvalidInput(
            "コードは半角英小文字・数字・ハイフンで2〜40文字にしてください", field="code"
        )
    name = str(data.get("name") or "").strip()
    if not 1 <= len(name) <= 120:
        raise InvalidInput("枠の名前を120文字以内で入力してください", field="name")
    try:
        kind = PlacementKind(str(data.get("kind") or ""))
    except ValueError:
        raise InvalidInput("枠の種類を選んでください", field="kind") from None
    values.update(code=code, name=name, kind=kind)
    values["description"] = str(data.get("description") or "").strip()[:2000]
    for field, (label, low, high) in LIMITS.items():
        try:
            number = int(str(data.get(field, "")).strip())
        except ValueError:
            raise InvalidInput(
                "{label}は整数で入力してください", field=field, label=label
            ) from None
        if not low <= number <= high:
            raise InvalidInput(
                "{label}は{low}〜{high}で入力してください",
                field=field,
                label=label,
                low=low,
                high=high,
            )
        values[field] = number
    position = str(data.get("feed_position") or "").strip()
    values["feed_position"] = int(position) if position.isdigit() else None
    if kind is PlacementKind.IN_FEED and not (
        values["feed_position"] and values["feed_position"] <= 50
    ):
        raise InvalidInput("フィード内の表示位置(1〜50)を入力してください", field="feed_position")
    discounts = data.get("term_discounts") or []
    surcharges = data.get("targeting_surcharges") or {}
    try:
        card = RateCard.from_columns(
            values["price_per_share_week_yen"],
            values["out_of_city_price_per_share_week_yen"],
            discounts,
            surcharges,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InvalidInput(
            "期間割引・ターゲティング加算の形式が正しくありません", field="term_discounts"
        ) from None
    values["term_discounts"] = [
        {"min_weeks": tier.min_weeks, "percent": tier.percent}
        for tier in sorted(card.term_discounts, key=lambda t: t.min_weeks)
    ]
    values["targeting_surcharges"] = dict(card.targeting_surcharges or {})
    values["active"] = bool(data.get("active", True))
    return values


def placement_layout(
    session: Session, host: HostLayout, changed: PlacementSpot | None = None
) -> SlotLayout:
    """Where the active placements show on the host's pages, with `changed` as it would be."""
    spots = {p.id: placement_spot(p) for p in session.scalars(select(Placement))}
    if changed is not None:
        spots[changed.placement_id] = changed
    return lay_out(spots.values(), host)


def check_servable(session: Session, placement: Placement, host: HostLayout) -> None:
    """Refuse to sell a placement that no page of the host would show."""
    if placement.id in placement_layout(session, host).unservable:
        raise PlacementNotServable(field="placement_id")


def _check_layout_change(
    session: Session, placement_id: int | None, values: Mapping[str, Any], host: HostLayout
) -> None:
    """A placement saved active must be shown somewhere, and must not push another one off."""
    if not values.get("active", True):
        return
    if placement_id is None:  # new: it sorts after every existing placement, as it will
        placement_id = (session.scalar(select(func.max(Placement.id))) or 0) + 1
    changed = PlacementSpot(
        placement_id, values["name"], values["kind"], values.get("feed_position"), True
    )
    before = placement_layout(session, host)
    after = placement_layout(session, host, changed)
    reason = after.unservable.get(placement_id)
    if reason is not None:
        raise InvalidInput(reason.template, field=reason.field, **reason.params)
    pushed = newly_unservable(before, after, placement_id)
    if pushed:
        names = "、".join(f"「{_name(session, p)}」" for p in pushed)
        raise InvalidInput(
            "この変更で枠{names}が住民のページに表示されなくなるため、保存できません",
            field="feed_position",
            names=names,
        )


def _name(session: Session, placement_id: int) -> str:
    placement = session.get(Placement, placement_id)
    return placement.name if placement is not None else str(placement_id)


def placement_spot(placement: Placement) -> PlacementSpot:
    return PlacementSpot(
        placement.id, placement.name, placement.kind, placement.feed_position, placement.active
    )


def create_placement(
    session: Session, values: Mapping[str, Any], actor: Actor, host: HostLayout | None = None
) -> Placement:
    if session.scalar(select(Placement.id).where(Placement.code == values["code"])) is not None:
        raise AlreadyExists("このコードの枠はすでにあります", field="code")
    _check_layout_change(session, None, values, host or HostLayout())
    placement = Placement(**values)
    session.add(placement)
    session.flush()
    record(session, actor, "placement_created", "placement", placement.id, code=placement.code)
    return placement


def update_placement(
    session: Session,
    placement_id: int,
    values: Mapping[str, Any],
    actor: Actor,
    host: HostLayout | None = None,
) -> Placement:
    """Rate changes apply to new quotes only: bookings keep the prices they were sold at."""
    placement = session.get(Placement, placement_id)
    if placement is None:
        raise NotFound("広告枠が見つかりません")
    clash = session.scalar(
        select(Placement.id).where(Placement.code == values["code"], Placement.id != placement_id)
    )
    if clash is not None:
        raise AlreadyExists("このコードの枠はすでにあります", field="code")
    _check_layout_change(session, placement_id, values, host or HostLayout())
    before = {key: getattr(placement, key) for key in values}
    for key, value in values.items():
        setattr(placement, key, value)
    changed = {key: str(value) for key, value in values.items() if before[key] != value}
    record(session, actor, "placement_updated", "placement", placement.id, changes=changed)
    return placement


def list_placements(session: Session, *, active_only: bool = False) -> list[Placement]:
    query = select(Placement).order_by(Placement.kind, Placement.feed_position, Placement.id)
    if active_only:
        query = query.where(Placement.active.is_(True))
    return list(session.scalars(query))


def sellable_placements(session: Session, host: HostLayout) -> list[Placement]:
    """The active placements some page of the host shows: what shops may book."""
    unservable = placement_layout(session, host).unservable
    return [p for p in list_placements(session, active_only=True) if p.id not in unservable]


def get_placement(session: Session, placement_id: int) -> Placement:
    placement = session.get(Placement, placement_id)
    if placement is None:
        raise NotFound("広告枠が見つかりません")
    return placement
