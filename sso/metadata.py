"""Fetching IdP metadata from a URL an administrator typed: https only (unless
DEBUG), public addresses only (the name is resolved and every address checked,
and the connection goes to the checked address, so DNS rebinding cannot swap
it), a timeout, a size cap and no redirects."""
import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

from django.conf import settings

MAX_METADATA_BYTES = 1024 * 1024
TIMEOUT_SECONDS = 5


class MetadataFetchError(Exception):
    pass


def _public_address(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise MetadataFetchError(f"The host {host} could not be resolved.") from None
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise MetadataFetchError(f"{host} resolves to a private or reserved address; metadata URLs must be public.")
    if not addresses:
        raise MetadataFetchError(f"The host {host} could not be resolved.")
    return addresses[0]


def validate_metadata_url(url: str) -> tuple[str, str, int, str]:
    url = (url or "").strip()
    if len(url) > 2048:
        raise MetadataFetchError("The metadata URL is too long.")
    parts = urlsplit(url)
    allowed = ("https", "http") if settings.DEBUG else ("https",)
    if parts.scheme not in allowed:
        raise MetadataFetchError("The metadata URL must start with https://.")
    if not parts.hostname or parts.username or parts.password:
        raise MetadataFetchError("Enter a full metadata URL such as https://idp.example.com/metadata.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise MetadataFetchError("The metadata URL has an invalid port.") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def fetch_url(scheme: str, host: str, address: str, port: int, path: str) -> bytes:
    """The network read (tests replace this one function)."""
    if scheme == "https":
        context = ssl.create_default_context()
        raw = socket.create_connection((address, port), timeout=TIMEOUT_SECONDS)
        sock = context.wrap_socket(raw, server_hostname=host)
        conn = http.client.HTTPSConnection(host, port, timeout=TIMEOUT_SECONDS, context=context)
        conn.sock = sock
    else:
        conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)
        conn.sock = socket.create_connection((address, port), timeout=TIMEOUT_SECONDS)
    try:
        conn.request("GET", path, headers={"Host": host, "Accept": "application/samlmetadata+xml, application/xml"})
        response = conn.getresponse()
        if response.status != 200:
            raise MetadataFetchError(f"The metadata URL answered HTTP {response.status}.")
        body = response.read(MAX_METADATA_BYTES + 1)
    finally:
        conn.close()
    return body


def fetch_metadata(url: str) -> str:
    scheme, host, port, path = validate_metadata_url(url)
    address = _public_address(host, port)
    try:
        body = fetch_url(scheme, host, address, port, path)
    except MetadataFetchError:
        raise
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        raise MetadataFetchError(f"The metadata could not be fetched: {type(exc).__name__}.") from None
    if len(body) > MAX_METADATA_BYTES:
        raise MetadataFetchError("The metadata is larger than 1 MiB.")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise MetadataFetchError("The metadata is not UTF-8 text.") from None
