"""One HTTP port for /metrics (Prometheus), /healthz (liveness) and /readyz (readiness).

A tiny wsgiref server in a daemon thread: prometheus_client's WSGI app for /metrics, two
plain-text probes beside it. Liveness means the loop still turns (its last heartbeat is
recent); readiness means the first pass finished, or this replica stands by as a
non-leader, and it is not shutting down.
"""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Health:
    """What the probes answer, updated by the daemon loop."""

    def __init__(self, *, stale_after: float, monotonic: Callable[[], float] = time.monotonic):
        self.stale_after = stale_after
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._beat = monotonic()
        self._ready = False
        self._stopping = False
        self._role = "starting"

    def beat(self, *, role: str) -> None:
        """The loop turned; `role` is what it is doing (leader, standby, ...)."""
        with self._lock:
            self._beat = self._monotonic()
            self._role = role

    def mark_ready(self) -> None:
        """The first pass finished (or this replica stands by as a non-leader)."""
        with self._lock:
            self._ready = True

    def mark_stopping(self) -> None:
        """Shutting down: stop taking part, finish the pass in flight."""
        with self._lock:
            self._stopping = True

    def liveness(self) -> tuple[bool, str]:
        """(alive, why): alive while the loop's last heartbeat is recent."""
        with self._lock:
            age = self._monotonic() - self._beat
        if age > self.stale_after:
            return False, f"no loop heartbeat for {age:.0f}s (limit {self.stale_after:.0f}s)"
        return True, "ok"

    def readiness(self) -> tuple[bool, str]:
        """(ready, why)."""
        with self._lock:
            ready, stopping, role = self._ready, self._stopping, self._role
        if stopping:
            return False, "shutting down"
        if not ready:
            return False, "first pass not finished yet"
        return True, f"ok ({role})"


def health_app(registry: CollectorRegistry, health: Health) -> WsgiApp:
    """The WSGI app: /metrics, /healthz, /readyz; 404 for anything else."""
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        if path in ("/healthz", "/livez"):
            return _probe(health.liveness(), start_response)
        if path == "/readyz":
            return _probe(health.readiness(), start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found: try /metrics, /healthz or /readyz\n"]

    return app


def _probe(answer: tuple[bool, str], start_response: StartResponse) -> Iterable[bytes]:
    good, why = answer
    start_response(
        "200 OK" if good else "503 Service Unavailable",
        [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")],
    )
    return [f"{why}\n".encode()]


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        """Probes every few seconds would flood the log; say nothing."""


class HealthServer:
    """The running server; `port` is the bound one (useful with port 0)."""

    def __init__(self, app: WsgiApp, *, host: str, port: int) -> None:
        self._server = make_server(
            host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self.host = host
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="health-server",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:9090."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> HealthServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def serve(
    registry: CollectorRegistry, health: Health, *, port: int, host: str = "0.0.0.0"
) -> HealthServer:
    """Serve /metrics, /healthz and /readyz on host:port in a background thread."""
    return HealthServer(health_app(registry, health), host=host, port=port)
