"""Counting house ads: how often each was placed and seen, per place and hour, per worker.

The feed's event loop adds to counters in memory; the delivery refresh thread writes them twice
a minute (and when the service stops) as new rows of `house_ad_counts`, one batch id per write,
so nothing is ever updated in place and a report sums the rows. A write that fails puts its
counts back for the next one. The counts are the city's information, not billing: no resident
or address is kept, and what a worker holds when it is killed (up to 30 s worth) is lost.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from marketplace.delivery.events import hour_start, new_id
from marketplace.delivery.house import Surface
from marketplace.models import HouseAdCount

log = logging.getLogger(__name__)

SHOWN, VIEWS = 0, 1
Key = tuple[int, Surface, datetime]  # house ad, surface, hour start (UTC)


class HouseAdCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[Key, list[int]] = {}

    def shown(self, house_ad_id: int, surface: Surface, at: datetime) -> None:
        self._add((house_ad_id, surface, hour_start(at)), SHOWN)

    def viewed(self, house_ad_id: int, surface: Surface, at: datetime) -> None:
        self._add((house_ad_id, surface, hour_start(at)), VIEWS)

    def pending(self) -> dict[Key, tuple[int, int]]:
        with self._lock:
            return {key: (c[SHOWN], c[VIEWS]) for key, c in self._counts.items()}

    def _add(self, key: Key, which: int) -> None:
        with self._lock:
            counts = self._counts.get(key)
            if counts is None:
                counts = self._counts[key] = [0, 0]
            counts[which] += 1

    def flush(self, session_factory: sessionmaker[Session]) -> int:
        """Write what was counted since the last flush; returns the rows written."""
        with self._lock:
            counts, self._counts = self._counts, {}
        if not counts:
            return 0
        batch_id = new_id()
        rows = [
            {
                "batch_id": batch_id,
                "house_ad_id": house_ad_id,
                "surface": surface.value,
                "hour_start": hour,
                "shown": shown,
                "views": views,
            }
            for (house_ad_id, surface, hour), (shown, views) in counts.items()
        ]
        try:
            with session_factory.begin() as session:
                session.execute(insert(HouseAdCount), rows)
        except Exception as exc:  # the next flush tries again with these counts added
            log.warning("house ad counts not written, kept for the next flush: %s", exc)
            with self._lock:
                for key, (shown, views) in counts.items():
                    kept = self._counts.setdefault(key, [0, 0])
                    kept[SHOWN] += shown
                    kept[VIEWS] += views
            return 0
        return len(rows)
