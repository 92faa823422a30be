"""localstripe in a child process on a free loopback port, and a receiver for its webhooks."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Localstripe:
    """localstripe on a fixed loopback port that a test can stop and start again.

    State survives a restart (it is pickled to `folder`), as Stripe's does across an outage.
    """

    def __init__(self, folder: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.folder = folder
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.localstripe_server",
                str(self.port),
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.1)

    def stop(self, *, graceful: bool = False) -> None:
        """Kill it, as an outage would; `graceful` asks it to shut down cleanly instead."""
        if self.process is not None:
            if graceful:
                self.process.terminate()
            else:
                self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class WebhookCapture:
    """Receives what a Stripe server posts, so a test can deliver the exact bytes to the app."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str]] = []
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                capture.received.append((body, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, event_type: str, timeout: float = 10.0) -> tuple[bytes, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body, signature in self.received:
                if json.loads(body)["type"] == event_type:
                    return body, signature
            time.sleep(0.1)
        raise AssertionError(f"no {event_type} webhook within {timeout} s")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
