"""How many refused ACS posts an organization's audit log takes (§7: unauthenticated
input cannot grow stored data without bound).

Counted with django-ratelimit (imported here and in orgs/limits.py) in the shared cache — Redis when
REDIS_URL is set, so every web process sees the same counts: per organization and client
address (an IPv6 client by its /64, which one host usually holds whole), and per
organization whatever the address, each over a fixed window of
SSO_REJECTIONS_WINDOW_SECONDS. Only rejections are counted: a valid response is never
refused here, so people behind an attacker's NAT still sign in.

Without the cache (Redis down) the count is kept per process, per organization only:
the audit log stays bounded (by the number of processes) and a refusal is never a 500.

Rule ids: docs/rules.md.
"""
import ipaddress
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django_ratelimit.core import get_usage

from config.faults import CACHE_ERRORS, warn_throttled
from orgs.middleware import client_ip

GROUP = "sso.acs_rejections"
log = logging.getLogger(__name__)
_process_counts = LocMemCache("sso-rejections-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})


@dataclass(frozen=True)
class Allowance:
    record: bool  # write this rejection's audit event
    retry_after: int = 0  # past a limit: seconds until its window ends
    note: dict | None = None  # past a limit, once a window: what services.record_rejections_suppressed writes


def client_key(request) -> str:
    """The client address rate limits count by: an IPv6 client by its /64, which one host usually holds whole."""
    address = client_ip(request)
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address) if ip.version == 6 else str(ip)


def _usage(request, scope: str, value: str, limit: int, window: int) -> dict | None:
    return get_usage(request, group=f"{GROUP}.{scope}", key=lambda group, request: value, rate=(limit, window),
                     increment=True)


def rejection_allowance(request, org) -> Allowance:
    """Count one refused post for `org` and say whether its audit event is written."""
    try:
        return _shared_allowance(request, org)
    except CACHE_ERRORS:
        warn_throttled(log, "sso.limits", "SSO rejection limit: cache unavailable; counting per process")
        return _process_allowance(org)


def _process_allowance(org) -> Allowance:
    window = settings.SSO_REJECTIONS_WINDOW_SECONDS
    key = f"{org.pk}:{int(time.time()) // window}"
    _process_counts.add(key, 0, timeout=window)
    if _process_counts.incr(key) <= settings.SSO_REJECTIONS_PER_ORG:
        return Allowance(record=True)
    return Allowance(record=False, retry_after=max(1, window - int(time.time()) % window))


def _shared_allowance(request, org) -> Allowance:
    window = settings.SSO_REJECTIONS_WINDOW_SECONDS
    scope, limit = "client", settings.SSO_REJECTIONS_PER_CLIENT
    usage = _usage(request, scope, f"{org.pk}:{client_key(request)}", limit, window)
    if usage is not None and not usage["should_limit"]:
        # A client past its own limit does not use up the organization's.
        scope, limit = "organization", settings.SSO_REJECTIONS_PER_ORG
        usage = _usage(request, scope, str(org.pk), limit, window)
    if usage is None or not usage["should_limit"]:  # None: RATELIMIT_ENABLE is off
        return Allowance(record=True)
    retry_after = max(1, usage["time_left"])
    note = None
    if cache.add(f"{GROUP}.noted:{org.pk}:{int(time.time()) // window}", 1, timeout=window):
        note = {"scope": scope, "count": usage["count"], "limit": limit, "window_seconds": window,
                "retry_after": retry_after}
    return Allowance(record=False, retry_after=retry_after, note=note)
