"""Fetching IdP metadata from a URL an administrator typed. The network read is
config.outbound's `fetch` (https only unless DEBUG, public addresses only and pinned,
a deadline for the whole exchange, a size cap, no redirects); this module adds what
SAML metadata needs: a 200, at most 1 MiB, UTF-8. Tests of callers replace
`config.outbound.fetch`."""
from config import outbound

MAX_METADATA_BYTES = 1024 * 1024
DEADLINE_SECONDS = 5
ACCEPT = "application/samlmetadata+xml, application/xml;q=0.9, */*;q=0.1"


class MetadataFetchError(Exception):
    pass


def fetch_metadata(url: str) -> str:
    try:
        response = outbound.fetch(url, headers={"Accept": ACCEPT}, deadline=DEADLINE_SECONDS,
                                  max_bytes=MAX_METADATA_BYTES)
    except outbound.OutboundError as exc:
        raise MetadataFetchError(str(exc)) from None
    if response.status != 200:
        raise MetadataFetchError(f"The metadata URL answered HTTP {response.status}.")
    try:
        return response.body.decode("utf-8")
    except UnicodeDecodeError:
        raise MetadataFetchError("The metadata is not UTF-8 text.") from None
