"""A tiny real HTTP webhook receiver on localhost (http.server in a thread)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Records every POST; answers 500 to the first `fail_first` requests."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts: list[str] = []
        self._fail = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["content-length"]))
                outer.attempts.append(self.headers["X-Steward-Event"])
                if outer._fail > 0:
                    outer._fail -= 1
                    self.send_response(500)
                else:
                    outer.received.append({
                        "raw": raw, "body": json.loads(raw),
                        "signature": self.headers["X-Steward-Signature"],
                        "timestamp": self.headers["X-Steward-Timestamp"]})
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
