"""Setup links: create, revoke, and the bookkeeping of their use (last used, last test).
Each change audited in its transaction. What a link does to the organization goes through
sso's and scim's own services, the link as their actor (setuplinks.views).

Rule ids: docs/rules.md."""
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from config.errors import NotFound, ServiceError
from orgs.audit import audit_record
from orgs.models import Organization, hash_secret, new_secret
from sso.services import SSONotAvailable

from .events import SetupLinkEvents
from .models import NOTE_MAX, SECRET_PREFIX, SetupLink

LIFETIME_MIN = timedelta(hours=1)
LIFETIME_MAX = timedelta(days=30)
# last_used_at is written at most this often per link: a page view is not worth a write each.
TOUCH_EVERY = timedelta(minutes=1)
TEST_TEXT_MAX = 300


def setup_link_url(secret: str) -> str:
    return f"{settings.BASE_URL}/setup/{secret}/"


def _clean_note(note: str) -> str:
    note = " ".join((note or "").split())  # one line: it is part of the audit log's actor label
    if len(note) > NOTE_MAX:
        raise ServiceError(f"Keep the note under {NOTE_MAX} characters.", code="invalid_note")
    return note


def _clean_lifetime(lifetime) -> timedelta:
    if not isinstance(lifetime, timedelta) or not LIFETIME_MIN <= lifetime <= LIFETIME_MAX:
        raise ServiceError("A setup link lasts from 1 hour to 30 days.", code="invalid_lifetime")
    return lifetime


@transaction.atomic
def setup_link_create(*, org: Organization, actor: User | None, lifetime: timedelta, note: str = "",
                      allow_directory_sync: bool = False) -> tuple[SetupLink, str]:
    """A new link for the organization's IdP administrator; returns it and its secret, which
    is shown once (in setup_link_url) and kept only as its SHA-256. Only on a plan with SSO:
    the link is for setting it up."""
    if not org.sso_available:
        raise SSONotAvailable(f"Single sign-on is not included in {org.name}'s {org.get_plan_display()} plan, so "
                              "there is nothing a setup link could set up. Contact us to change your plan.")
    lifetime, note = _clean_lifetime(lifetime), _clean_note(note)
    secret = new_secret(SECRET_PREFIX)
    now = timezone.now()
    link = SetupLink.objects.create(org=org, secret_hash=hash_secret(secret), note=note,
                                    allow_directory_sync=bool(allow_directory_sync), created_by=actor,
                                    created_at=now, expires_at=now + lifetime)
    audit_record(org=org, actor=actor, event=SetupLinkEvents.CREATED, target=link,
                 new={"note": note, "expires_at": link.expires_at.isoformat(),
                      "allow_directory_sync": link.allow_directory_sync})
    return link, secret


@transaction.atomic
def setup_link_revoke(*, org: Organization, actor: User | None, link_id) -> SetupLink:
    """End the link's reach at once (its next request answers 404). Revoking a revoked link
    changes nothing; an expired one is marked revoked too."""
    link = SetupLink.objects.select_for_update().filter(org=org, pk=link_id).first()
    if link is None:
        raise NotFound("No such setup link.")
    if link.revoked_at is not None:
        return link
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at"])
    audit_record(org=org, actor=actor, event=SetupLinkEvents.REVOKED, target=link,
                 old={"expires_at": link.expires_at.isoformat()})
    return link


def setup_link_touch(*, link: SetupLink, now=None) -> None:
    """Record that the link was used: one UPDATE, at most once a TOUCH_EVERY."""
    now = now or timezone.now()
    if link.last_used_at is not None and now - link.last_used_at < TOUCH_EVERY:
        return
    SetupLink.objects.filter(pk=link.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY)).update(last_used_at=now)
    link.last_used_at = now


def _clipped(value):
    if isinstance(value, str):
        return value[:TEST_TEXT_MAX]
    if isinstance(value, list):
        return [_clipped(item) for item in value[:50]]
    return value


def setup_link_keep_test(*, org: Organization, link_id: int, result: dict) -> None:
    """Keep what a test of the connection started through the link found, for its page (the
    test itself is audited by sso, the link as its actor). The IdP's words are clipped."""
    kept = {key: _clipped(value) for key, value in result.items()}
    kept["at"] = timezone.now().isoformat()
    SetupLink.objects.filter(org=org, pk=link_id).update(last_test=kept)
