"""How many outbound fetches (config.outbound) an organization may start:
OUTBOUND_FETCHES_PER_ORG per OUTBOUND_FETCH_WINDOW_SECONDS, whoever asks — the dashboard,
the API, and later webhooks — each attempt counted, refused ones too.

Counted with django-ratelimit (imported here and in sso/limits.py) in the shared cache,
Redis when REDIS_URL is set, so every web process sees the same count.

Without the cache this fails closed (503 with Retry-After), unlike sso.limits, which
must never turn an IdP's post away: this count is what bounds the work one organization
can have the server do against hosts it picks, a per-process count would multiply the
bound by the number of processes, and what it refuses is rare and can wait or be done
offline (paste the IdP's metadata XML instead of its URL); sign-in needs Redis anyway.
"""
from django.conf import settings
from django_ratelimit.core import get_usage

from config.errors import RateLimited
from config.faults import CACHE_ERRORS, ServiceUnavailable

GROUP = "orgs.outbound_fetches"


class OutboundFetchesUnavailable(ServiceUnavailable):
    message = "Fetching from other servers is briefly unavailable. Try again in a few seconds."


def outbound_fetch_count(*, org) -> None:
    """Count one outbound fetch for `org`; RateLimited once it is past the window's limit."""
    limit, window = settings.OUTBOUND_FETCHES_PER_ORG, settings.OUTBOUND_FETCH_WINDOW_SECONDS
    try:
        usage = get_usage(None, group=GROUP, key=lambda group, request: str(org.pk), rate=(limit, window),
                          increment=True)
    except CACHE_ERRORS as exc:
        raise OutboundFetchesUnavailable() from exc
    if usage is None or not usage["should_limit"]:  # None: RATELIMIT_ENABLE is off
        return
    retry_after = max(1, usage["time_left"])
    fetches = f"{limit} fetch{'es' if limit != 1 else ''}"
    raise RateLimited(f"{org.name} has reached its limit of {fetches} from other servers every {_duration(window)}. "
                      f"Try again in {_duration(retry_after)}.", retry_after=retry_after)


def _duration(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
