"""Server-side SAML login state and the assertion replay cache (Django cache:
Redis when REDIS_URL is set, so every web process shares them).

The IdP's POST to the ACS is a cross-site request: browsers do not send the
`SameSite=Lax` session cookie with it. So the AuthnRequest ID and `next` are
kept in the cache under an opaque, random, single-use RelayState value that the
IdP echoes back; nothing the ACS needs comes from the session.

The state is also bound to the browser that started the login by a dedicated
cookie, `gh_sso_state`, holding a random value whose hash the state records:
- on https (production) it is `SameSite=None; Secure`, so the browser sends it
  with the IdP's cross-site POST, and the ACS requires it to match: a RelayState
  leaked from one browser cannot complete a login in another;
- on plain-http development (localhost) browsers refuse `SameSite=None`
  without `Secure`, so the cookie is set with the browser default and is not
  sent on the cross-site POST; there the unguessable single-use RelayState alone
  proves the flow. The trade-off is acceptable only because http is never a
  production deployment (BASE_URL decides, not the request).

Without its cache (Redis down or frozen) a login's state can be neither kept nor
checked: `StateUnavailable`, which config.faults answers with a 503 page — single
sign-on fails closed. Used assertion and logout message IDs are not kept in the
cache but in PostgreSQL (`UsedMessageID`), until they expire: a Redis restart,
flush or eviction cannot let a response in twice.
"""
import hashlib
import itertools
import secrets
from datetime import datetime, timedelta, timezone as dt_timezone
from enum import StrEnum

from django.conf import settings
from django.core.cache import cache

from config.faults import CACHE_ERRORS, ServiceUnavailable

from . import fastpath

STATE_COOKIE = "gh_sso_state"
STATE_TTL_SECONDS = 10 * 60
_STATE_PREFIX = "sso:state:"
_REPLAY_PREFIX = "assertion:"
_LOGOUT_REPLAY_PREFIX = "logout:"
# Kept at least this long even when the assertion claims a shorter life (clock skew).
MIN_REPLAY_SECONDS = 10 * 60
# Every PRUNE_EVERY first uses a process deletes up to PRUNE_BATCH expired IDs (no Celery beat
# here): five times the rate they are added, in bounded statements.
PRUNE_EVERY = 100
PRUNE_BATCH = 500
_first_uses = itertools.count(1)


class Purpose(StrEnum):
    """What a stored state is for: a sign-in, an administrator's test of the connection
    (its result is shown, nobody is signed in), or a single logout this SP started."""

    LOGIN = "login"
    TEST = "test"
    LOGOUT = "logout"


class StateUnavailable(ServiceUnavailable):
    message = "Single sign-on is briefly unavailable. Try again in a few seconds."


def _cache(method: str, *args, **kwargs):
    """`cache.<method>(…)`; StateUnavailable when the cache cannot be reached."""
    try:
        return getattr(cache, method)(*args, **kwargs)
    except CACHE_ERRORS as exc:
        raise StateUnavailable() from exc


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def cookie_is_secure() -> bool:
    return settings.BASE_URL.startswith("https://")


def new_relay_state() -> str:
    return secrets.token_urlsafe(32)


def state_create(*, org_slug: str, request_id: str, next_url: str, purpose: Purpose = Purpose.LOGIN,
                 browser_secret: str, started_by: int | None = None, started_by_link: int | None = None,
                 relay_state: str | None = None) -> str:
    """Store a login's (or a logout's) state; returns the RelayState value to send to the IdP.
    `started_by`: the administrator who started a test login (the IdP's POST carries
    no session cookie, so the ACS learns who tests from here); `started_by_link`: the
    setup link's id, when a test was started through one (sso.policy.setup_link_tester).
    `relay_state`: one drawn with new_relay_state beforehand, when the message that
    carries it is signed."""
    relay_state = relay_state or new_relay_state()
    _cache(
        "set", _STATE_PREFIX + _hash(relay_state),
        {"org": org_slug, "request_id": request_id, "next": next_url, "purpose": Purpose(purpose).value,
         "browser": _hash(browser_secret), "started_by": started_by,
         "started_by_link": started_by_link},
        timeout=STATE_TTL_SECONDS,
    )
    return relay_state


def state_peek(relay_state: str) -> dict | None:
    if not relay_state or len(relay_state) > 200 or relay_state.startswith("/"):
        return None  # a state is new_relay_state()'s, never a path (an IdP-initiated RelayState)
    return _cache("get", _STATE_PREFIX + _hash(relay_state))


def state_consume(relay_state: str, *, org_slug: str, browser_secret: str | None) -> dict | None:
    """The state for `relay_state` if it belongs to this organization and browser,
    removed so it works once. `cache.delete` reports whether it removed the key,
    so of two concurrent uses only one wins."""
    state = state_peek(relay_state)
    if state is None or state.get("org") != org_slug:
        return None
    if browser_secret:
        if _hash(browser_secret) != state.get("browser"):
            return None
    elif cookie_is_secure():
        return None
    if not _cache("delete", _STATE_PREFIX + _hash(relay_state)):
        return None
    return state


def new_browser_secret() -> str:
    return secrets.token_urlsafe(24)


def set_state_cookie(response, value: str) -> None:
    if cookie_is_secure():
        response.set_cookie(STATE_COOKIE, value, max_age=STATE_TTL_SECONDS, secure=True, httponly=True,
                            samesite="None", path="/sso/")
    else:
        response.set_cookie(STATE_COOKIE, value, max_age=STATE_TTL_SECONDS, httponly=True, path="/sso/")


def assertion_first_use(*, org, assertion_id: str, not_on_or_after: datetime | None) -> bool:
    """True the first time an assertion ID is seen for this organization; False on replay."""
    now = datetime.now(dt_timezone.utc)
    ttl = MIN_REPLAY_SECONDS
    if not_on_or_after is not None:
        # Until the assertion expires, plus the library's 300 s clock drift allowance.
        ttl = max(ttl, int((not_on_or_after - now).total_seconds()) + 300)
    return _first_use(_REPLAY_PREFIX, org, assertion_id, ttl)


def logout_message_first_use(*, org, message_id: str, max_age_seconds: int) -> bool:
    """True the first time a LogoutRequest or LogoutResponse ID is seen for this organization.
    Kept as long as a message may be accepted (`max_age_seconds`: its IssueInstant's limit,
    clock skew included), and at least MIN_REPLAY_SECONDS."""
    return _first_use(_LOGOUT_REPLAY_PREFIX, org, message_id, max(MIN_REPLAY_SECONDS, max_age_seconds + 300))


def _first_use(prefix: str, org, message_id: str, ttl: int) -> bool:
    """Whether the organization sees this message ID for the first time: recorded under
    the unique (org, id hash) in one statement (sso.fastpath.message_id_record)."""
    now = datetime.now(dt_timezone.utc)
    first = fastpath.message_id_record(org=org, id_hash=_hash(prefix + message_id),
                                       expires_at=now + timedelta(seconds=ttl))
    if next(_first_uses) % PRUNE_EVERY == 0:
        used_message_ids_prune(now=now)
    return first


def message_id_record_orm(*, org, id_hash: str, expires_at: datetime) -> bool:
    """Record that the organization accepted the message ID of `id_hash`; False when it
    had been recorded already (a replay), concurrent attempts included: the ORM's
    get_or_create, whose INSERT in a savepoint loses to the unique constraint."""
    from .models import UsedMessageID

    return UsedMessageID.objects.get_or_create(org=org, id_hash=id_hash, defaults={"expires_at": expires_at})[1]


def used_message_ids_prune(*, now: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete up to `batch` expired IDs (oldest first); returns how many."""
    from .models import UsedMessageID

    expired = UsedMessageID.objects.filter(expires_at__lt=now or datetime.now(dt_timezone.utc))
    ids = list(expired.order_by("expires_at").values_list("pk", flat=True)[:batch])
    return UsedMessageID.objects.filter(pk__in=ids).delete()[0] if ids else 0
