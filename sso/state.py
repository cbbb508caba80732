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
"""
import hashlib
import secrets
from datetime import datetime, timezone as dt_timezone

from django.conf import settings
from django.core.cache import cache

STATE_COOKIE = "gh_sso_state"
STATE_TTL_SECONDS = 10 * 60
_STATE_PREFIX = "sso:state:"
_REPLAY_PREFIX = "sso:assertion:"
_LOGOUT_REPLAY_PREFIX = "sso:logout:"
# Kept at least this long even when the assertion claims a shorter life (clock skew).
MIN_REPLAY_SECONDS = 10 * 60


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def cookie_is_secure() -> bool:
    return settings.BASE_URL.startswith("https://")


def new_relay_state() -> str:
    return secrets.token_urlsafe(32)


def state_create(*, org_slug: str, request_id: str, next_url: str, purpose: str = "login",
                 browser_secret: str, started_by: int | None = None, relay_state: str | None = None) -> str:
    """Store a login's (or a logout's) state; returns the RelayState value to send to the IdP.
    `started_by`: the administrator who started a test login (the IdP's POST carries
    no session cookie, so the ACS learns who tests from here). `relay_state`: one drawn
    with new_relay_state beforehand, when the message that carries it is signed."""
    relay_state = relay_state or new_relay_state()
    cache.set(
        _STATE_PREFIX + _hash(relay_state),
        {"org": org_slug, "request_id": request_id, "next": next_url, "purpose": purpose,
         "browser": _hash(browser_secret), "started_by": started_by},
        timeout=STATE_TTL_SECONDS,
    )
    return relay_state


def state_peek(relay_state: str) -> dict | None:
    if not relay_state or len(relay_state) > 200:
        return None
    return cache.get(_STATE_PREFIX + _hash(relay_state))


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
    if not cache.delete(_STATE_PREFIX + _hash(relay_state)):
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


def assertion_first_use(*, org_slug: str, assertion_id: str, not_on_or_after: datetime | None) -> bool:
    """True the first time an assertion ID is seen for this organization; False on replay."""
    now = datetime.now(dt_timezone.utc)
    ttl = MIN_REPLAY_SECONDS
    if not_on_or_after is not None:
        # Until the assertion expires, plus the library's 300 s clock drift allowance.
        ttl = max(ttl, int((not_on_or_after - now).total_seconds()) + 300)
    return _first_use(_REPLAY_PREFIX, org_slug, assertion_id, ttl)


def logout_message_first_use(*, org_slug: str, message_id: str, max_age_seconds: int) -> bool:
    """True the first time a LogoutRequest or LogoutResponse ID is seen for this organization.
    Kept as long as a message may be accepted (`max_age_seconds`: its IssueInstant's limit,
    clock skew included), and at least MIN_REPLAY_SECONDS."""
    return _first_use(_LOGOUT_REPLAY_PREFIX, org_slug, message_id, max(MIN_REPLAY_SECONDS, max_age_seconds + 300))


def _first_use(prefix: str, org_slug: str, message_id: str, ttl: int) -> bool:
    """`cache.add` is atomic (Redis SET NX), so concurrent replays cannot both pass."""
    return cache.add(prefix + _hash(f"{org_slug}:{message_id}"), 1, timeout=ttl)
