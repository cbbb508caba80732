"""Setup links (issue 14 item 1): an administrator hands the customer's IdP administrator,
who has no account here, a link that opens a page to finish the SSO and Directory Sync
setup of one organization — and nothing else of it.

The link's secret is in its URL only; the row keeps its SHA-256 (orgs.models.hash_secret),
like every other secret here. Rule ids: docs/rules.md."""
from django.conf import settings
from django.db import models
from django.utils import timezone

from orgs.models import Organization

NOTE_MAX = 200


class SetupLink(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="setup_links")
    secret_hash = models.CharField(max_length=64, unique=True)
    note = models.CharField(max_length=NOTE_MAX, blank=True, help_text="Whom the link was made for.")
    allow_directory_sync = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # What the last "Test the connection" started through this link found (sso.signals
    # connection_tested): shown on the link's page, which the IdP's POST does not return to.
    last_test = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org", "-created_at"], name="setuplink_org_created")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """How the audit log names the link as an actor (actor None): its id and its note."""
        return (f"setup link #{self.pk} ({self.note})" if self.note else f"setup link #{self.pk}")[:254]

    def is_live(self, now=None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return self.State.REVOKED
        return self.State.ACTIVE if self.expires_at > timezone.now() else self.State.EXPIRED


SECRET_PREFIX = "ghsetup"
# orgs.models.new_secret(SECRET_PREFIX): the prefix, "_", then secrets.token_urlsafe(32)
# (256 random bits in 43 URL-safe characters). Anything else is no link's, looked up or not.
SECRET_LENGTH = len(SECRET_PREFIX) + 1 + 43
