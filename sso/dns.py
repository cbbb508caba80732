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


_default_resolver: TxtResolver = dnspython_txt


def set_default_resolver(resolver: TxtResolver | None) -> None:
    global _default_resolver
    _default_resolver = resolver or dnspython_txt


def txt_records(domain: str, *, resolver: TxtResolver | None = None) -> list[str]:
    return list((resolver or _default_resolver)(domain))
