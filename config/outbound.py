"""Every outbound HTTP request the server makes on a user's behalf (an IdP's metadata URL,
webhook deliveries) goes through `fetch`: one exchange that can neither be held open nor
pointed inward.

- **A deadline for the whole exchange.** Connecting, the TLS handshake, sending, the
  status line and headers, and the body all end by `deadline` seconds after the call.
  Before each step and each body chunk the socket's timeout is set to the time left; and
  a watchdog thread shuts the socket down at the deadline, which ends a read blocked
  anywhere — inside http.client's header parsing too, where a server dripping a byte a
  second would otherwise renew a per-read timeout for ever. (The DNS lookup before it is
  bounded by the system resolver's own timeouts; what it takes comes off the deadline.)
- **A size cap.** A Content-Length over `max_bytes` is refused before the body is read;
  without one, reading stops at `max_bytes` + 1.
- **No redirects.** A 3xx is an error naming the status and where it pointed.
- **https only**, unless DEBUG.
- **Public addresses only, and pinned.** The host name is resolved once (`_resolve`, the
  only call to `socket.getaddrinfo`); every address must be public: `is_global`, not
  multicast or site-local, and IPv4 embedded in IPv6 — IPv4-mapped and -translated,
  IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo (server and client) — must
  be public too; the local-use NAT64 prefix 64:ff9b:1::/48 is refused. The socket
  connects to a checked address, never to the name again, so DNS rebinding cannot swap
  it; TLS still verifies the certificate for the host name (SNI).
- **One exception**, `OutboundError`, whose message is written for an administrator (it
  never shows what a name resolved to).

No per-organization concurrency guard: the deadline holds a fetch to `deadline` seconds
of one worker, and orgs.limits.outbound_fetch_count bounds how many fetches an
organization starts per window, so what an organization can take is at most
OUTBOUND_FETCHES_PER_ORG × deadline worker-seconds per window.

`allow_private=True` lets this module's tests reach a server on 127.0.0.1. No other
module passes it (tests/config/test_outbound.py checks that), and nothing a user sends
reaches it. Tests of callers replace `fetch` itself (`config.outbound.fetch`).
"""
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

DEADLINE_SECONDS = 5.0
MAX_BYTES = 1024 * 1024
MAX_URL_LENGTH = 2048
METHODS = ("GET", "POST")
_CHUNK = 64 * 1024
# Prefixes whose last 32 bits are an IPv4 address: IPv4-mapped, IPv4-translated (RFC 2765),
# NAT64's well-known prefix (RFC 6052) and IPv4-compatible (deprecated).
_LAST_32_BITS = tuple(ipaddress.ip_network(prefix) for prefix in
                      ("::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96", "::/96"))
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: never globally reachable


class OutboundError(Exception):
    """The fetch did not happen or did not finish; the message says why, for an administrator."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes


def fetch(url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None,
          deadline: float = DEADLINE_SECONDS, max_bytes: int = MAX_BYTES, allow_private: bool = False) -> Response:
    """One request to `url`, within the rules of the module docstring. Any status but a 3xx
    is returned; what the status means is the caller's business."""
    if method not in METHODS:
        raise ValueError(f"Unsupported method {method!r}.")
    ends_at = time.monotonic() + deadline
    scheme, host, port, target = _split(url)
    addresses = _resolve(host, port, allow_private=allow_private)
    watchdog = _Watchdog(ends_at - time.monotonic())  # the lookup took some of it
    sock = conn = response = None
    try:
        sock = _connect(addresses, ends_at)
        watchdog.watch(sock)
        if scheme == "https":
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
            watchdog.watch(sock)
            sock.settimeout(_left(ends_at))
            sock.do_handshake()
            conn = http.client.HTTPSConnection(host, port, context=context)
        else:
            conn = http.client.HTTPConnection(host, port)
        conn.sock = sock
        sock.settimeout(_left(ends_at))
        conn.request(method, target, body=body, headers={"User-Agent": "Gatehouse", "Connection": "close",
                                                         **(headers or {})})
        sock.settimeout(_left(ends_at))
        response = conn.getresponse()
        if 300 <= response.status < 400:
            location = (response.getheader("Location") or "")[:200]
            where = f" to {location}" if location else ""
            raise OutboundError(f"{host} answered HTTP {response.status}, a redirect{where}; redirects are not "
                                "followed: give the final URL.")
        if response.length is not None and response.length > max_bytes:
            raise OutboundError(f"{host} answered more than {_size(max_bytes)}, the limit.")
        content = bytearray()
        # Once the body's declared length is read, http.client closes the socket when the
        # server said `Connection: close` or spoke HTTP/1.0: then there is nothing more to read.
        while len(content) <= max_bytes and not response.isclosed():
            sock.settimeout(_left(ends_at))
            chunk = response.read(min(_CHUNK, max_bytes + 1 - len(content)))
            if not chunk:
                break
            content += chunk
        if watchdog.fired:  # the socket was shut down under a read that then saw an early end
            raise socket.timeout()
        if len(content) > max_bytes:
            raise OutboundError(f"{host} answered more than {_size(max_bytes)}, the limit.")
        found: dict[str, str] = {}
        for name, value in response.getheaders():
            found[name.lower()] = f"{found[name.lower()]}, {value}" if name.lower() in found else value
        return Response(status=response.status, headers=found, body=bytes(content))
    except OutboundError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        if watchdog.fired or time.monotonic() >= ends_at or isinstance(exc, TimeoutError):
            raise OutboundError(f"{host} did not answer within {deadline:g} second{'s' if deadline != 1 else ''}.") \
                from None
        raise OutboundError(_explain(host, port, exc)) from None
    finally:
        watchdog.stop()
        for opened in (response, conn, sock):  # the response holds the descriptor open until closed
            if opened is not None:
                opened.close()


def check_url(url: str) -> None:
    """What `fetch` checks before connecting (https outside DEBUG, the URL's form, every
    address the host resolves to public), for a URL kept to fetch later (a webhook
    endpoint): refused when it is saved, with the same OutboundError. `fetch` checks again
    each time, since a name may resolve elsewhere later."""
    _scheme, host, port, _target = _split(url)
    _resolve(host, port, allow_private=False)


def _split(url: str) -> tuple[str, str, int, str]:
    url = (url or "").strip()
    if len(url) > MAX_URL_LENGTH:
        raise OutboundError(f"The URL is too long (at most {MAX_URL_LENGTH} characters).")
    parts = urlsplit(url)
    allowed = ("https", "http") if settings.DEBUG else ("https",)
    if parts.scheme not in allowed:
        raise OutboundError("The URL must start with https://.")
    if not parts.hostname or parts.username or parts.password:
        raise OutboundError("Enter a full URL such as https://idp.example.com/metadata, without a user name.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OutboundError("The URL has an invalid port.") from None
    return parts.scheme, parts.hostname, port, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _resolve(host: str, port: int, *, allow_private: bool) -> list[tuple]:
    """(family, sockaddr) of every address `host` has: resolved once, each one checked."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise OutboundError(f"The host {host} could not be resolved.") from None
    if not infos:
        raise OutboundError(f"The host {host} could not be resolved.")
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if not allow_private and not is_public(ip):
            raise OutboundError(f"{host} resolves to a private or reserved address; only public addresses are fetched.")
    return [(family, sockaddr) for family, _type, _proto, _name, sockaddr in infos]


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Reachable on the public internet, and so is any IPv4 address it carries."""
    if not ip.is_global or ip.is_multicast:
        return False
    if ip.version == 4:
        return True
    if ip.is_site_local or ip in _LOCAL_NAT64:
        return False
    return all(is_public(embedded) for embedded in embedded_ipv4(ip))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (and that a gateway may forward to)."""
    found = []
    if any(ip in prefix for prefix in _LAST_32_BITS) and int(ip) > 1:  # not :: or ::1
        found.append(ipaddress.IPv4Address(ip.packed[-4:]))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client)
    return found


def _connect(addresses: list[tuple], ends_at: float) -> socket.socket:
    """A socket connected to the first checked address that answers, without resolving again."""
    error: OSError = OSError("no address")
    for family, sockaddr in addresses:
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:  # no IPv6 here, say
            error = exc
            continue
        try:
            sock.settimeout(_left(ends_at))
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


def _left(ends_at: float) -> float:
    left = ends_at - time.monotonic()
    if left <= 0:
        raise TimeoutError()
    return left


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n:,} bytes"


def _explain(host: str, port: int, exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"The TLS certificate of {host} could not be verified: {exc.verify_message.rstrip('.')}."
    if isinstance(exc, ssl.SSLError):
        return f"The TLS handshake with {host} failed ({exc.reason or type(exc).__name__})."
    if isinstance(exc, ConnectionRefusedError):
        return f"{host} refused the connection on port {port}."
    if isinstance(exc, http.client.HTTPException):
        return f"{host} did not answer with valid HTTP ({type(exc).__name__})."
    return f"{host} could not be reached ({exc.strerror or type(exc).__name__})."


class _Watchdog:
    """Shuts the watched socket down at the deadline, waking any read blocked on it.

    The lock orders the shutdown before `stop()`, and `stop()` before the socket is
    closed, so a late timer never touches a descriptor that was closed and reused."""

    def __init__(self, seconds: float):
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.fired = False
        self._timer = threading.Timer(max(seconds, 0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                self._shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._sock is not None:
                self._shut(self._sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            # The plain socket's shutdown, also for an SSLSocket: it acts on the descriptor
            # only and leaves the TLS state (in use by the reading thread) alone.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass

    def stop(self) -> None:
        with self._lock:
            self._timer.cancel()
            self._sock = None
