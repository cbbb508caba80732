"""The SCIM rate limit: at most SCIM_RATE_LIMIT requests per token in ANY
SCIM_RATE_WINDOW_SECONDS (0 turns it off).

A moving (sliding) window, counted with the `limits` library (imported only here):
the time of each request that passed is kept, newest first and at most `limit` of
them per token; a request passes while the `limit`-th newest is older than the
window. So no window of that length, wherever it starts, holds more than `limit`
requests — a fixed minute let twice the limit through across its edge — and a
refused client is told the true wait: until that oldest request leaves the window.

The store is the default cache's Redis when the cache is on Redis (REDIS_URL), so
every web process shares the counts: one Lua script per request (LINDEX, LPUSH,
LTRIM, EXPIRE; a token at its limit holds `limit` timestamps, about 20 bytes each,
read from the web processes' clocks), through a client with REDIS_CLIENT_OPTIONS'
short timeouts. Otherwise (the embedded
default: one process, local-memory cache) it is this process's memory.

It fails open: with the store unreachable the request passes and the log says so,
once a minute per process (`config.faults.warn_throttled`) — a directory's changes
go through rather than being refused while Redis is down.
"""
import logging
import math
import time

from django.conf import settings
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from config.faults import CACHE_ERRORS, warn_throttled

REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"
KEY_PREFIX = "scim:rate"
log = logging.getLogger(__name__)
_limiters: dict[str, MovingWindowRateLimiter] = {}  # by Redis URL; "" for process memory


def _redis_url() -> str:
    """The default cache's Redis (its primary, which takes the writes), or "" for none."""
    cache = settings.CACHES["default"]
    if cache["BACKEND"] != REDIS_CACHE:
        return ""
    location = cache["LOCATION"]
    servers = location.split(",") if isinstance(location, str) else location
    return servers[0].strip()


def _limiter() -> MovingWindowRateLimiter:
    url = _redis_url()
    limiter = _limiters.get(url)
    if limiter is None:  # building one opens no connection; a race builds two, one is kept
        storage = (RedisStorage(url, key_prefix=KEY_PREFIX, **settings.REDIS_CLIENT_OPTIONS) if url
                   else MemoryStorage())
        limiter = _limiters.setdefault(url, MovingWindowRateLimiter(storage))
    return limiter


def request_retry_after(*, token_id: int) -> int | None:
    """Count one request of the token: None when it may proceed, else the whole seconds
    after which one more would pass (at least 1) — its `Retry-After`."""
    limit, window = settings.SCIM_RATE_LIMIT, settings.SCIM_RATE_WINDOW_SECONDS
    if not limit:
        return None
    item = RateLimitItemPerSecond(limit, window)
    try:
        limiter = _limiter()
        if limiter.hit(item, str(token_id)):
            return None
        frees_at, remaining = limiter.get_window_stats(item, str(token_id))
    except CACHE_ERRORS:
        warn_throttled(log, "scim.rate_limit", "SCIM rate limit: store unavailable; requests not limited")
        return None
    if remaining > 0:  # the oldest left the window between the two calls: there is room now
        return 1
    # A request exactly one window after the oldest still counts it: the next whole second after.
    return max(1, math.floor(frees_at - time.time()) + 1)


def forget_process_counts() -> None:
    """Empty this process's in-memory store (tests: each starts with no requests counted;
    Redis' counts go with the cache's database)."""
    limiter = _limiters.get("")
    if limiter is not None:
        limiter.storage.reset()
