"""config.outbound against real servers on 127.0.0.1 (issue 10 item 2): a server that drips
bytes cannot hold a fetch past its deadline, in the headers, the body or the TLS handshake;
a body over the cap is refused without reading it; redirects are refused; every address a
name resolves to is checked (IPv4 inside IPv6 too) and the connection goes to the address
that was checked. Only `socket.getaddrinfo` is replaced, where a test says so."""
import datetime
import ipaddress
import pathlib
import socket
import ssl
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from config import outbound
from config.outbound import OutboundError, fetch

DEADLINE = 1.0
MARGIN = 0.5  # what the deadline may be overrun by on a busy test machine
DRIP_FOR = 5.0  # a dripping server gives up after this: a fetch without a deadline would take this long


class LocalServer:
    """A TCP server on 127.0.0.1 whose every connection is handled by `handle(conn, server)`
    in a thread of its own; counts connections and keeps what it received."""

    def __init__(self, handle, tls: ssl.SSLContext | None = None):
        self.handle, self.tls = handle, tls
        self.stopping = threading.Event()
        self.connections = 0
        self.requests: list[bytes] = []
        self.server_names: list[str | None] = []
        self.sent = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        self.listener.settimeout(0.05)  # to see `stopping` soon
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn):
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            self.handle(conn, self)
        except OSError:
            pass
        finally:
            conn.close()

    def read_request(self, conn) -> bytes:
        conn.settimeout(DRIP_FOR)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(rest) < length:
            rest += conn.recv(65536)
        self.requests.append(head + b"\r\n\r\n" + rest)
        return data

    def drip(self, conn, data: bytes, every: float = 0.2):
        """Send `data` a byte at a time until it ends, DRIP_FOR passes or the client goes."""
        ends = time.monotonic() + DRIP_FOR
        for i in range(len(data)):
            if self.stopping.is_set() or time.monotonic() > ends:
                return
            conn.sendall(data[i:i + 1])
            time.sleep(every)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=DRIP_FOR + 1)
        self.listener.close()


@pytest.fixture
def serve():
    servers = []

    def start(handle, tls=None) -> LocalServer:
        server = LocalServer(handle, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def plain_http(settings):
    settings.DEBUG = True  # http:// is allowed in DEBUG only


def local_fetch(url, **kwargs):
    return fetch(url, allow_private=True, **kwargs)


def timed(call):
    started = time.monotonic()
    try:
        call()
    except OutboundError as exc:
        return time.monotonic() - started, str(exc)
    raise AssertionError("the fetch did not fail")


def answer(status: str = "200 OK", body: bytes = b"hello", headers: str = ""):
    def handle(conn, server):
        server.read_request(conn)
        conn.sendall(f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{headers}\r\n".encode() + body)
    return handle


# The deadline ----------------------------------------------------------------------


def assert_deadline(elapsed: float, message: str):
    assert "did not answer within 1 second." in message, message
    assert DEADLINE - 0.05 <= elapsed <= DEADLINE + MARGIN, elapsed


def test_headers_dripped_a_byte_at_a_time_end_at_the_deadline(serve, plain_http):
    def handle(conn, server):
        server.read_request(conn)
        server.drip(conn, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: yes\r\n" * 100)

    server = serve(handle)
    assert_deadline(*timed(lambda: local_fetch(f"http://127.0.0.1:{server.port}/", deadline=DEADLINE)))


@pytest.mark.parametrize("framing", ["Content-Length: 1000", "Transfer-Encoding: chunked", "Connection: close"])
def test_a_body_dripped_a_byte_at_a_time_ends_at_the_deadline(serve, plain_http, framing):
    """Whatever the framing — with no length, the body ends when the socket does, so the
    one the watchdog shut down must not be taken for a complete short body."""
    body = b"3e8\r\n" + b"x" * 1000 if "chunked" in framing else b"x" * 1000

    def handle(conn, server):
        server.read_request(conn)
        conn.sendall(f"HTTP/1.1 200 OK\r\n{framing}\r\n\r\n".encode())
        server.drip(conn, body)

    server = serve(handle)
    assert_deadline(*timed(lambda: local_fetch(f"http://127.0.0.1:{server.port}/", deadline=DEADLINE)))


def test_a_silent_server_ends_at_the_deadline(serve, plain_http):
    server = serve(lambda conn, server: server.stopping.wait(DRIP_FOR))
    assert_deadline(*timed(lambda: local_fetch(f"http://127.0.0.1:{server.port}/", deadline=DEADLINE)))


def test_a_tls_handshake_dripped_a_byte_at_a_time_ends_at_the_deadline(serve):
    # A TLS record header announcing a 16 KiB handshake message, then its bytes, slowly.
    server = serve(lambda conn, server: server.drip(conn, b"\x16\x03\x03\x40\x00" + b"\x02" * 100))
    assert_deadline(*timed(lambda: local_fetch(f"https://127.0.0.1:{server.port}/", deadline=DEADLINE)))


def test_a_fast_answer_is_returned_whole(serve, plain_http):
    server = serve(answer(body=b"<EntityDescriptor/>", headers="X-Thing: a\r\nX-Thing: b\r\n"))
    response = local_fetch(f"http://127.0.0.1:{server.port}/metadata?x=1", headers={"Accept": "application/xml"})
    assert (response.status, response.body) == (200, b"<EntityDescriptor/>")
    assert response.headers["x-thing"] == "a, b" and response.headers["content-length"] == "19"
    request = server.requests[0].decode()
    assert request.startswith("GET /metadata?x=1 HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n" in request and "Accept: application/xml\r\n" in request


def test_a_post_sends_its_body_and_any_status_but_a_redirect_is_returned(serve, plain_http):
    server = serve(answer("503 Service Unavailable", body=b"later"))
    response = local_fetch(f"http://127.0.0.1:{server.port}/hook", method="POST", body=b'{"a": 1}',
                           headers={"Content-Type": "application/json"})
    assert (response.status, response.body) == (503, b"later")
    assert server.requests[0].startswith(b"POST /hook HTTP/1.1\r\n")
    assert server.requests[0].endswith(b'\r\n\r\n{"a": 1}') and b"Content-Length: 8\r\n" in server.requests[0]


# Size, redirects, scheme ---------------------------------------------------------------------


@pytest.mark.parametrize("status_line,headers", [("200 OK", "Connection: close\r\n"), ("200 OK", "")])
def test_an_answer_that_closes_the_connection_is_read_whole(serve, plain_http, status_line, headers):
    """A server that says `Connection: close` (many do, as asked) or speaks HTTP/1.0: the
    body ends at its length, and the socket http.client closed then is not touched again."""
    def handle(conn, server):
        server.read_request(conn)
        version = "HTTP/1.0" if not headers else "HTTP/1.1"
        conn.sendall(f"{version} {status_line}\r\nContent-Length: 2\r\n{headers}\r\nok".encode())

    server = serve(handle)
    response = local_fetch(f"http://127.0.0.1:{server.port}/hook", method="POST", body=b"{}")
    assert (response.status, response.body) == (200, b"ok")


def test_a_declared_length_over_the_cap_is_refused_before_the_body(serve, plain_http):
    """The body never comes: had the fetch waited for it, it would end at the deadline."""
    def handle(conn, server):
        server.read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n")
        server.stopping.wait(DRIP_FOR)

    server = serve(handle)
    elapsed, message = timed(lambda: local_fetch(f"http://127.0.0.1:{server.port}/", max_bytes=4000,
                                                 deadline=DRIP_FOR))
    assert message == "127.0.0.1 answered more than 4,000 bytes, the limit." and elapsed < 1


def test_an_endless_body_is_refused_at_the_cap(serve, plain_http):
    def handle(conn, server):
        server.read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        while not server.stopping.is_set():
            conn.sendall(b"x" * 65536)
            server.sent += 65536

    server = serve(handle)
    elapsed, message = timed(lambda: local_fetch(f"http://127.0.0.1:{server.port}/", deadline=DRIP_FOR))
    assert message == "127.0.0.1 answered more than 1 MiB, the limit." and elapsed < 2
    time.sleep(0.2)
    assert server.sent < 64 * 1024 * 1024  # the client stopped reading: the server's sends failed


def test_a_body_at_the_cap_is_accepted(serve, plain_http):
    server = serve(answer(body=b"y" * 4000))
    assert local_fetch(f"http://127.0.0.1:{server.port}/", max_bytes=4000).body == b"y" * 4000


@pytest.mark.parametrize("status", ["301 Moved Permanently", "302 Found", "307 Temporary Redirect"])
def test_a_redirect_is_refused_with_its_status(serve, plain_http, status):
    server = serve(answer(status, body=b"", headers="Location: http://169.254.169.254/latest/\r\n"))
    with pytest.raises(OutboundError) as refused:
        local_fetch(f"http://127.0.0.1:{server.port}/")
    assert str(refused.value) == (f"127.0.0.1 answered HTTP {status[:3]}, a redirect to "
                                  "http://169.254.169.254/latest/; redirects are not followed: give the final URL.")
    assert server.connections == 1


def test_http_is_refused_outside_debug(serve):
    server = serve(answer())
    with pytest.raises(OutboundError, match=r"must start with https://"):
        local_fetch(f"http://127.0.0.1:{server.port}/")
    assert server.connections == 0


@pytest.mark.parametrize("url", ["ftp://idp.test/", "https://user:pw@idp.test/", "https://idp.test:99999/",
                                 "https:///metadata", "https://idp.test/" + "x" * 2048, ""])
def test_malformed_urls_are_refused_before_any_lookup(url, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail("looked up"))
    with pytest.raises(OutboundError):
        fetch(url)


# Addresses -----------------------------------------------------------------------------------


class Resolver:
    """socket.getaddrinfo's stand-in: answers[i] for the i-th lookup (the last one after that)."""

    def __init__(self, *answers: list[str]):
        self.answers, self.calls = answers, 0

    def __call__(self, host, port, *args, **kwargs):
        addresses = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port, 0, 0) if ":" in a else (a, port)) for a in addresses]


@pytest.fixture
def connects(monkeypatch):
    """Where sockets connect: recorded, and refused — except 127.0.0.1, which really connects."""
    seen = []
    real = socket.socket.connect

    def connect(sock, address):
        seen.append(address[0])
        if address[0] == "127.0.0.1":
            return real(sock, address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


REFUSED = [
    "127.0.0.1", "10.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
    "::1", "::", "fe80::1", "fc00::1", "fec0::1", "ff02::1", "ff0e::1",
    # IPv4-mapped and -translated
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:0:10.0.0.1",
    # NAT64, the well-known prefix with a private IPv4 inside, and the local-use prefix
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::a00:1", "64:ff9b:1::808:808",
    # 6to4 (the IPv4 in bits 16–48)
    "2002:7f00:1::1", "2002:a9fe:a9fe::1", "2002:a00:1::",
    # Teredo: a private client (obfuscated: ~10.0.0.1) behind a public server, and a private server
    "2001:0:808:808::f5ff:fffe", "2001:0:a00:1::f7f7:f7f7",
    # IPv4-compatible
    "::127.0.0.1", "::10.0.0.1", "::169.254.169.254",
]


@pytest.mark.parametrize("address", REFUSED)
def test_a_private_or_reserved_address_is_refused_before_connecting(address, monkeypatch, connects):
    monkeypatch.setattr(socket, "getaddrinfo", Resolver([address]))
    with pytest.raises(OutboundError) as refused:
        fetch("https://idp.test/metadata")
    assert str(refused.value) == ("idp.test resolves to a private or reserved address; only public addresses "
                                  "are fetched.")
    assert connects == []


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1"])
def test_a_public_address_is_connected_to(address, monkeypatch, connects):
    """The control: public addresses, IPv4 inside IPv6 included, pass the check (then the
    stand-in refuses the connection)."""
    monkeypatch.setattr(socket, "getaddrinfo", Resolver([address]))
    with pytest.raises(OutboundError, match="idp.test refused the connection on port 443."):
        fetch("https://idp.test/metadata")
    assert connects == [address]


def test_every_address_is_checked_not_only_the_first(monkeypatch, connects):
    monkeypatch.setattr(socket, "getaddrinfo", Resolver(["93.184.215.14", "10.0.0.1"]))
    with pytest.raises(OutboundError, match="private or reserved"):
        fetch("https://idp.test/metadata")
    assert connects == []


def test_the_connection_goes_to_the_checked_address_never_a_second_lookup(serve, plain_http, monkeypatch,
                                                                           connects):
    """DNS rebinding: a public address when checked, 127.0.0.1 on any later lookup, where a
    server waits. The fetch must try only the checked address."""
    server = serve(answer(body=b"internal secrets"))
    resolver = Resolver(["93.184.215.14"], ["127.0.0.1"])
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(OutboundError, match="refused the connection"):
        fetch(f"http://rebind.test:{server.port}/")
    assert (resolver.calls, connects, server.connections) == (1, ["93.184.215.14"], 0)


def test_unresolvable_names_are_an_error(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(OutboundError, match=r"^The host nowhere.test could not be resolved.$"):
        fetch("https://nowhere.test/")


def test_embedded_ipv4_decodes_every_form():
    def embedded(address):
        return [str(ip) for ip in outbound.embedded_ipv4(ipaddress.IPv6Address(address))]

    assert embedded("::ffff:10.1.2.3") == ["10.1.2.3"]
    assert embedded("64:ff9b::a01:203") == ["10.1.2.3"]
    assert embedded("::10.1.2.3") == ["10.1.2.3"]
    assert embedded("2002:a01:203::1") == ["10.1.2.3"]
    assert embedded("2001:0:808:808::f5ff:fffe") == ["8.8.8.8", "10.0.0.1"]  # server, client
    assert embedded("2606:4700::1111") == [] and embedded("::1") == []


def test_no_module_but_this_one_lets_private_addresses_through():
    """allow_private is for this module's tests: no application code passes it."""
    root = pathlib.Path(outbound.__file__).resolve().parent.parent
    users = [str(path.relative_to(root)) for path in root.rglob("*.py")
             if "allow_private" in path.read_text(encoding="utf-8")
             and path.parts[len(root.parts)] not in ("tests", ".venv") and path.name != "outbound.py"]
    assert users == []


# TLS: pinned to the address, verified for the name --------------------------------------------


def _certificate(tmp_path, name: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
def tls_server(serve, tmp_path, monkeypatch):
    """An https server on 127.0.0.1 whose certificate names idp.test, trusted by the client;
    idp.test resolves to 127.0.0.1."""
    cert, key = _certificate(tmp_path, "idp.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = None

    def remember_name(sslobj, name, ctx):
        server.server_names.append(name)

    context.sni_callback = remember_name
    server = serve(answer(body=b"over tls"), tls=context)
    trusted = ssl.create_default_context

    monkeypatch.setattr(ssl, "create_default_context", lambda: trusted(cafile=cert))
    monkeypatch.setattr(socket, "getaddrinfo", Resolver(["127.0.0.1"]))
    return server


def test_tls_goes_to_the_checked_address_and_verifies_the_host_name(tls_server):
    response = fetch(f"https://idp.test:{tls_server.port}/m", allow_private=True)
    assert (response.status, response.body) == (200, b"over tls")
    assert tls_server.server_names == ["idp.test"]
    assert f"Host: idp.test:{tls_server.port}\r\n".encode() in tls_server.requests[0]


def test_tls_refuses_a_certificate_for_another_name(tls_server):
    with pytest.raises(OutboundError, match=r"^The TLS certificate of other.test could not be verified: "
                                            r"Hostname mismatch"):
        fetch(f"https://other.test:{tls_server.port}/m", allow_private=True)
    assert tls_server.server_names == ["other.test"] and tls_server.requests == []
