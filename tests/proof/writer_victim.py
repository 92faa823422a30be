"""A delivery EventWriter process for test_faults_writer_kill.py to kill.

Usage: python -m tests.proof.writer_victim DATABASE_URL SPOOL_DIR BOOKING_ID SPOOLED HANGING

Phase 1 submits SPOOLED offers (each with an impression and a slot opportunity) while every
write fails at its last stage: they are spooled and fsynced ("acknowledged as spooled"), and the
process prints `SPOOLED <n>`. Phase 2 submits HANGING more offers; the write stops half way
(offers inserted, the transaction still open), prints `HANGING`, and waits to be killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from marketplace.db import make_engine
from marketplace.delivery.events import OpportunityEvent
from marketplace.delivery.writer import EventWriter
from tests.support.delivery_events import AT, impression, offer


def main(url: str, spool_dir: str, booking_id: int, spooled: int, hanging: int) -> None:
    mode = {"now": "fail"}

    def hook(stage: str) -> None:
        if mode["now"] == "fail" and stage == "opportunities":
            raise RuntimeError("injected: the database went away at the end of the batch")
        if mode["now"] == "hang" and stage == "impressions":
            print("HANGING", flush=True)
            time.sleep(3600)

    writer = EventWriter(
        make_engine(url), Path(spool_dir), flush_interval=0.02, retry_interval=3600.0,
        fault_hook=hook,
    )  # fmt: skip
    writer.start()
    for _ in range(spooled):
        event = offer(booking_id)
        writer.submit(event)
        writer.submit(impression(event))
        writer.submit(OpportunityEvent(booking_id, 2, AT))
    assert writer.flush(30.0)
    print(f"SPOOLED {writer.stats.spooled}", flush=True)
    mode["now"] = "hang"
    for _ in range(hanging):
        event = offer(booking_id)
        writer.submit(event)
        writer.submit(impression(event))
    time.sleep(3600)


if __name__ == "__main__":
    url, spool_dir, booking, spooled, hanging = sys.argv[1:6]
    main(url, spool_dir, int(booking), int(spooled), int(hanging))
