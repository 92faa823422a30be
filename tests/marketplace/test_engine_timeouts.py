"""A PostgreSQL server that accepts the connection but never answers must not hang a worker."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy.exc import OperationalError

from marketplace import db


def test_connecting_to_a_silent_server_gives_up_after_the_connect_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_stay_silent() -> None:  # like a server behind a partition
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_and_stay_silent, daemon=True)
    thread.start()
    monkeypatch.setattr(db, "CONNECT_TIMEOUT_SECONDS", 1)
    port = listener.getsockname()[1]
    engine = db.make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test")
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError), engine.connect():
            pass
        assert time.monotonic() - started < 10
        assert accepted, "the client never reached the silent server"
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()
        engine.dispose()
