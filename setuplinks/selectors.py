"""Reads of setup links: an organization's list, one of them, and the live link a secret opens."""
import hmac

from django.db.models import QuerySet
from django.utils import timezone

from orgs.models import Organization, hash_secret

from .models import SECRET_LENGTH, SECRET_PREFIX, SetupLink


def setup_links_of(*, org: Organization) -> QuerySet[SetupLink]:
    """The organization's links, newest first, each with its creator."""
    return SetupLink.objects.filter(org=org).select_related("created_by").order_by("-created_at", "-pk")


def setup_link_get(*, org: Organization, link_id) -> SetupLink | None:
    return SetupLink.objects.filter(org=org, pk=link_id).select_related("created_by").first()


def _live(links: QuerySet, now) -> QuerySet:
    # A plan that lost SSO takes the links' reach with it; they come back with the plan
    # while unexpired and unrevoked.
    return links.filter(revoked_at__isnull=True, expires_at__gt=now)


def live_setup_link(secret: str, *, now=None) -> SetupLink | None:
    """The link `secret` opens, with its organization: None for a secret of the wrong shape
    (no query), an unknown one, an expired or revoked link, or an organization whose plan
    no longer includes SSO — one answer for all, which the link's pages turn into one 404.
    The row is found by the secret's SHA-256 and the digests compared in constant time,
    as SCIM tokens are (scim.services.directory_authenticate)."""
    if not isinstance(secret, str) or len(secret) != SECRET_LENGTH or not secret.startswith(SECRET_PREFIX + "_"):
        return None
    digest = hash_secret(secret)
    link = _live(SetupLink.objects.select_related("org"), now or timezone.now()).filter(secret_hash=digest).first()
    if link is None or not hmac.compare_digest(link.secret_hash, digest) or not link.org.sso_available:
        return None
    return link


def live_setup_link_of(*, org: Organization, link_id, now=None) -> SetupLink | None:
    """The organization's link `link_id` while it is live (the ACS asks, for a test it started)."""
    if not org.sso_available:
        return None
    return _live(SetupLink.objects.filter(org=org, pk=link_id), now or timezone.now()).first()
