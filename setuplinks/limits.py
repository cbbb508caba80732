"""How many requests to setup link pages one client address may make:
SETUP_LINK_REQUESTS_PER_CLIENT per SETUP_LINK_WINDOW_SECONDS, counted before the secret is
looked up, so that guessing (pointless anyway: 256 random bits) is refused without a query.

Counted with django-ratelimit in the shared cache (Redis when REDIS_URL is set), an IPv6
client by its /64 (sso.limits). Without the cache this fails closed (503 with Retry-After),
as orgs.limits does: the pages it guards are an administrator's setup, which can wait."""
from django.conf import settings
from django_ratelimit.core import get_usage

from config.errors import RateLimited
from config.faults import CACHE_ERRORS, ServiceUnavailable
from sso.limits import client_key

GROUP = "setuplinks.requests"


class SetupLinksUnavailable(ServiceUnavailable):
    message = "Setup links are briefly unavailable. Try again in a few seconds."


def setup_link_request_count(request) -> None:
    """Count one request to a link page from this client; RateLimited past the window's limit."""
    limit, window = settings.SETUP_LINK_REQUESTS_PER_CLIENT, settings.SETUP_LINK_WINDOW_SECONDS
    try:
        usage = get_usage(request, group=GROUP, key=lambda group, request: client_key(request),
                          rate=(limit, window), increment=True)
    except CACHE_ERRORS as exc:
        raise SetupLinksUnavailable() from exc
    if usage is None or not usage["should_limit"]:  # None: RATELIMIT_ENABLE is off
        return
    retry_after = max(1, usage["time_left"])
    raise RateLimited(f"Too many requests from your address. Try again in {retry_after} seconds.",
                      retry_after=retry_after)
