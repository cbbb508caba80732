"""Webhook fixtures: a real HTTP receiver on 127.0.0.1 (http.server in a thread) that answers
what the test scripts, and the one change tests make so that delivery may reach it: http
allowed (DEBUG, as in development) and 127.0.0.1 counted as public by config.outbound.
Nothing else of config.outbound is replaced: the POST is real."""
import ipaddress
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from config import outbound
from orgs import events


class Receiver:
    """Answers each POST with the next status of `script` (then `then`), keeping every request."""

    def __init__(self):
        self.script: list[int] = []
        self.then = 200
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.script.pop(0) if receiver.script else receiver.then
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def event_ids(self) -> list[str]:
        return [json.loads(request["body"])["id"] for request in self.requests]

    @property
    def types(self) -> list[str]:
        return [json.loads(request["body"])["type"] for request in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


LOOPBACK = ipaddress.ip_address("127.0.0.1")


def allow_loopback(settings, monkeypatch) -> None:
    """Tests only: http:// (DEBUG) and 127.0.0.1 are allowed, so a local receiver is reachable."""
    settings.DEBUG = True
    public = outbound.is_public
    monkeypatch.setattr(outbound, "is_public", lambda ip: ip == LOOPBACK or public(ip))


@pytest.fixture
def loopback(settings, monkeypatch):
    allow_loopback(settings, monkeypatch)


@pytest.fixture
def receiver(loopback):
    started = Receiver()
    yield started
    started.stop()


def numbered(org) -> int:
    """Number the organization's new events, as the on-commit task does."""
    return events.sequence(org.pk)
