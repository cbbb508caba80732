"""What a request gets while a backing service is down (README, "Failure behaviour"):
a 503 with `Retry-After`, in the format of the surface that was asked — never
Django's HTML 500 with a traceback per request in the log.

- PostgreSQL unreachable: `django.db` OperationalError or InterfaceError, wherever
  the view or a middleware met it.
- `ServiceUnavailable`: raised by code that must fail closed without its store
  (sso.state: no single sign-on without the login state in Redis).

An app whose clients read another format registers it (`register_surface`): SCIM
its RFC 7644 error JSON, the API its JSON error. Every other path gets
templates/503.html, rendered without the request's context processors (they
read the database).

`warn_throttled` is the log line of a failing backing service: the first with its
traceback, then at most one a minute per process and cause, counting the others.
"""
import logging
import sys
import threading
import time
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

try:  # the embedded default runs without Redis; the client is installed all the same
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover
    RedisError = OSError

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
WARN_EVERY_SECONDS = 60
# What a Redis-backed cache call raises when Redis is down, frozen or unreachable.
CACHE_ERRORS = (RedisError, OSError)


class ServiceUnavailable(Exception):
    """A backing service this request cannot do without is unavailable: answer 503."""

    message = "Gatehouse is briefly unavailable. Try again in a few seconds."
    retry_after = RETRY_AFTER_SECONDS


UNAVAILABLE = (OperationalError, InterfaceError, ServiceUnavailable)
_surfaces: list[tuple[str, Callable[[str], HttpResponse]]] = []


def register_surface(prefix: str, render: Callable[[str], HttpResponse]) -> None:
    """Paths under `prefix` answer an outage with `render(message)` (a 503 response)."""
    if (prefix, render) not in _surfaces:
        _surfaces.append((prefix, render))


def unavailable_response(request, exc: BaseException) -> HttpResponse:
    message = getattr(exc, "message", ServiceUnavailable.message)
    for prefix, render in _surfaces:
        if request.path.startswith(prefix):
            response = render(message)
            break
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(getattr(exc, "retry_after", RETRY_AFTER_SECONDS))
    return response


_warned_at: dict[str, float] = {}
_unreported: dict[str, int] = {}
_warn_lock = threading.Lock()


def warn_throttled(logger: logging.Logger, key: str, message: str) -> None:
    """Log `message` (called while handling the exception) once per WARN_EVERY_SECONDS per
    process and `key`: the first time with the traceback, later with the exception's text
    and how many were not logged in between."""
    now = time.monotonic()
    with _warn_lock:
        last = _warned_at.get(key)
        if last is not None and now - last < WARN_EVERY_SECONDS:
            _unreported[key] = _unreported.get(key, 0) + 1
            return
        _warned_at[key] = now
        unreported = _unreported.pop(key, 0)
    if last is None:
        logger.warning(message, exc_info=True)
    else:
        logger.warning("%s: %r (%d more since the last report)", message, sys.exc_info()[1], unreported)


class FaultMiddleware:
    """Turns an outage met by a view into the surface's 503 (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if not isinstance(exc, UNAVAILABLE):
            return None
        warn_throttled(log, type(exc).__name__, f"{request.method} {request.path}: answered 503")
        return unavailable_response(request, exc)


def server_error(request):
    """handler500: an outage met by a middleware (outside any view) answers 503 too."""
    exc = sys.exc_info()[1]
    if isinstance(exc, UNAVAILABLE):
        return unavailable_response(request, exc)
    return defaults.server_error(request)
