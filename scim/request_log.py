"""The last requests each directory received, for troubleshooting (Settings ›
Directory Sync shows them).

Every web process writes to the same place, so the page shows requests served by
any of them at once: a capped Redis list per organization when REDIS_URL is set
(LPUSH + LTRIM in one round trip — no SQL, so a provisioning POST keeps its query
budget), the cache otherwise (the embedded default: one process, local memory).
Losing this log never fails a SCIM request: a Redis error drops the entry, and is
logged once a minute per process (a traceback per request filled 13.6 MB in 17 s).
"""
import json
import logging
import threading
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache

from config.faults import CACHE_ERRORS, warn_throttled

KEEP = 100
TTL_SECONDS = 30 * 24 * 3600
log = logging.getLogger(__name__)

_lock = threading.Lock()
_client = None


def _key(org_id: int) -> str:
    return f"scim:requests:{org_id}"


def _redis():
    """A client on REDIS_URL (its own connection pool, thread-safe), or None."""
    global _client
    if not settings.REDIS_URL:
        return None
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL, **settings.REDIS_CLIENT_OPTIONS)
    return _client


def record(*, org_id: int, method: str, path: str, status: int, detail: str = "") -> None:
    entry = json.dumps({"at": datetime.now(UTC).timestamp(), "method": method[:10], "path": path[:300],
                        "status": status, "detail": detail[:300]})
    key = _key(org_id)
    client = _redis()
    if client is not None:
        try:
            client.pipeline(transaction=False).lpush(key, entry).ltrim(key, 0, KEEP - 1).expire(
                key, TTL_SECONDS).execute()
        except Exception:  # noqa: BLE001 - a troubleshooting log must not fail the request
            warn_throttled(log, "scim.request_log", "SCIM request log: Redis unavailable; entries dropped")
        return
    try:
        with _lock:
            entries = cache.get(key) or []
            cache.set(key, [entry, *entries][:KEEP], TTL_SECONDS)
    except CACHE_ERRORS:
        warn_throttled(log, "scim.request_log", "SCIM request log: cache unavailable; entries dropped")


def recent(*, org_id: int, limit: int = 50) -> list[dict]:
    """Newest first: dicts with created_at, method, path, status, detail."""
    client = _redis()
    if client is not None:
        try:
            raw = client.lrange(_key(org_id), 0, limit - 1)
        except Exception:  # noqa: BLE001
            warn_throttled(log, "scim.request_log", "SCIM request log: Redis unavailable")
            raw = []
    else:
        raw = (cache.get(_key(org_id)) or [])[:limit]
    entries = []
    for item in raw:
        entry = json.loads(item)
        entry["created_at"] = datetime.fromtimestamp(entry.pop("at"), UTC)
        entries.append(entry)
    return entries


def clear(*, org_id: int) -> None:
    client = _redis()
    if client is not None:
        try:
            client.delete(_key(org_id))
        except Exception:  # noqa: BLE001
            warn_throttled(log, "scim.request_log", "SCIM request log: Redis unavailable")
        return
    cache.delete(_key(org_id))
