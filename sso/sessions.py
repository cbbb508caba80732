"""Sessions an organization's IdP made (E12, E13).

A sign-in through an organization's IdP records, in the Django session itself,
which organization's IdP made it, when, and until when the IdP allows it
(the assertion's `SessionNotOnOrAfter`). The access check on every request to an
SSO-enforcing organization (`session_gate`, an orgs.policy session gate) reads
only that and the values the membership lookup already carries (the
organization's enforcement and session lifetime, the member's first IdP
sign-in): no query of its own.

The same sign-in also writes one `SSOSession` row, so an IdP's LogoutRequest can
find and end the Gatehouse sessions of a user (single logout); nothing reads it on
an ordinary request.

Rule ids: docs/rules.md.
"""
import time
from datetime import datetime, timedelta

from django.contrib.auth.signals import user_logged_out
from django.db.models import F, OuterRef, Subquery
from django.dispatch import receiver
from django.utils import timezone

from config import sql
from orgs.models import Membership
from orgs.policy import SessionRefusal

from .models import SSOConnection, SSOIdentity, SSOSession

SESSION_KEY = "sso"


def _now() -> float:
    """The clock the bindings are read and written by (tests move it)."""
    return time.time()


def _bindings(session) -> dict:
    value = session.get(SESSION_KEY)
    return value if isinstance(value, dict) else {}


def binding_of(session, org_id: int) -> dict | None:
    """What this session holds of org `org_id`'s IdP sign-in, or None."""
    binding = _bindings(session).get(str(org_id))
    return binding if isinstance(binding, dict) else None


def binding_expiry(binding: dict, lifetime: timedelta) -> float:
    """When the IdP-made session stops reaching the organization (epoch seconds): its
    sign-in time plus the organization's lifetime as it is NOW (an administrator who
    shortens it shortens live sessions too), capped by the IdP's SessionNotOnOrAfter."""
    expiry = float(binding.get("at", 0)) + lifetime.total_seconds()
    until = binding.get("until")
    return min(expiry, float(until)) if until else expiry


def bind(request, *, org, connection: SSOConnection, user, name_id: str, session_index: str | None = None,
         session_not_on_or_after: datetime | None = None) -> None:
    """Record, after `login()`, that `org`'s IdP made this session: in the session, and as
    an SSOSession row for single logout. The row is written with the new session's own
    INSERT (accounts.sessions: one statement on PostgreSQL, so the ACS pays no round trip
    for it), together with the removal of this user's expired rows, so the index does
    not grow without bound."""
    now = _now()
    binding = {"at": int(now), "name_id": name_id, "index": session_index or ""}
    if session_not_on_or_after is not None:
        binding["until"] = int(session_not_on_or_after.timestamp())
    bindings = dict(_bindings(request.session))
    bindings[str(org.pk)] = binding
    request.session[SESSION_KEY] = bindings
    expires_at = timezone.now() + timedelta(seconds=binding_expiry(binding, connection.session_lifetime) - now)

    def index_rows(session_key: str) -> list[tuple[str, list]]:
        row = SSOSession(org=org, user=user, session_key=session_key, name_id=name_id,
                         session_index=(session_index or "")[:256], expires_at=expires_at)
        sweep = (f"DELETE FROM {sql.table(SSOSession)} WHERE {sql.column(SSOSession, 'user')} = %s "
                 f"AND {sql.column(SSOSession, 'expires_at')} < %s",
                 [user.pk, sql.param(SSOSession, "expires_at", timezone.now())])
        return [sweep, sql.insert_sql(row)]

    request.session.write_with_new_session(index_rows)


def latest_binding(session) -> tuple[int, dict] | None:
    """(organization id, binding) of the most recent IdP sign-in this session holds, or None."""
    found = [(int(org_id), binding) for org_id, binding in _bindings(session).items()
             if isinstance(binding, dict) and org_id.isdigit()]
    return max(found, key=lambda item: item[1].get("at", 0)) if found else None


@receiver(user_logged_out)
def forget_on_sign_out(sender, request, **kwargs) -> None:
    """Signing out (before the session is flushed) drops this session's SSOSession rows:
    an IdP's LogoutRequest later has nothing of it left to end."""
    session = getattr(request, "session", None)
    if session is not None and session.session_key and _bindings(session):
        SSOSession.objects.filter(session_key=session.session_key).delete()


def password_still_allowed(membership, enabled_at, first_sso_login_at) -> bool:
    """E2: an administrator the enable kept — admin when SSO was enabled, with a membership
    its owner agreed to — keeps their password until their first sign-in through the IdP.
    Not an administrator made since (promoted, added as admin, or a directory's admin).
    sso.selectors.kept_by_enable is the same rule as a query."""
    if membership.role != Membership.Role.ADMIN or membership.owner_unconfirmed or first_sso_login_at is not None:
        return False
    if enabled_at is None or membership.created_at >= enabled_at:
        return False
    return membership.role_changed_at is None or membership.role_changed_at < enabled_at


def access_annotations() -> dict:
    """What session_gate needs, read in the membership lookup's own SELECT."""
    return {
        "sso_state": F("org__sso_connection__state"),
        "sso_enabled_at": F("org__sso_connection__enabled_at"),
        "sso_session_lifetime": F("org__sso_connection__session_lifetime"),
        "sso_first_login_at": Subquery(
            SSOIdentity.objects.filter(org_id=OuterRef("org_id"), user_id=OuterRef("user_id"))
            .values("first_sso_login_at")[:1]
        ),
    }


def session_gate(request, membership) -> SessionRefusal | None:
    """E12/E13: a session reaches an SSO-enforcing organization only if that
    organization's IdP made it, within its SSO session lifetime. The one exception
    (E2): an administrator the enable kept, before their first sign-in through the IdP."""
    if not hasattr(membership, "sso_state"):  # not from membership_for_slug: a programming error
        raise TypeError("session_gate needs a membership from orgs.selectors.membership_for_slug")
    if membership.sso_state != SSOConnection.State.ENABLED:
        return None
    org = membership.org
    sign_in_url = f"/sso/{org.slug}/login/"
    binding = binding_of(request.session, membership.org_id)
    if binding is not None:
        if _now() < binding_expiry(binding, membership.sso_session_lifetime):
            return None
        return SessionRefusal(
            code="sso_session_expired",
            message=f"Your single sign-on session for {org.name} has ended. Sign in again through your identity "
                    f"provider: {sign_in_url}",
            sign_in_url=sign_in_url,
        )
    if password_still_allowed(membership, membership.sso_enabled_at, membership.sso_first_login_at):
        return None
    return SessionRefusal(
        code="sso_required",
        message=f"{org.name} requires single sign-on: sign in through your identity provider at {sign_in_url}",
        sign_in_url=sign_in_url,
    )
