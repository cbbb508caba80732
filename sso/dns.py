"""DNS TXT lookups behind an interface: production uses dnspython; tests pass
a fake `resolver` (any callable domain -> list of TXT strings)."""
from collections.abc import Callable

TxtResolver = Callable[[str], list[str]]


def dnspython_txt(domain: str) -> list[str]:
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.resolve(domain, "TXT", lifetime=5.0)
    except (dns.exception.DNSException, OSError):
        return []
    values = []
    for record in answer:
        values.append(b"".join(record.strings).decode("utf-8", "replace"))
    return values


def txt_records(domain: str, *, resolver: TxtResolver | None = None) -> list[str]:
    return list((resolver or dnspython_txt)(domain))
