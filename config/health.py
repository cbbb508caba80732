import logging

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse

from .faults import CACHE_ERRORS, warn_throttled

log = logging.getLogger(__name__)


def healthz(request):
    """Liveness, for load balancers and docker-compose: 503 without the database (nothing
    works); 200 "degraded" without the cache (Redis): single sign-on answers 503 then, but
    SCIM, the API and most pages keep working, so the process stays in rotation. The cache
    check gives up within REDIS_TIMEOUT_SECONDS."""
    checks = {"database": "ok", "cache": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        warn_throttled(log, "healthz.database", "healthz: database unavailable")
        checks["database"] = "unavailable"
    try:
        cache.get("healthz")
    except CACHE_ERRORS:
        warn_throttled(log, "healthz.cache", "healthz: cache unavailable")
        checks["cache"] = "unavailable"
    if checks["database"] != "ok":
        return JsonResponse({"status": "unavailable", **checks}, status=503, headers={"Retry-After": "5"})
    return JsonResponse({"status": "ok" if checks["cache"] == "ok" else "degraded", **checks})
