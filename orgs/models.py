"""Organizations, memberships, invitations, credentials and the audit log.

Every tenant row carries a non-null `org` foreign key and its unique
constraints include it (STYLE.md, principle 5).

Rule ids: docs/rules.md.
"""
import hashlib
import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1–50 lowercase letters, digits or hyphens, not starting or ending with a hyphen.",
)
# Slugs that would collide with our own URLs: top-level paths, and /sso/link/…, /sso/test-idp/… which
# are routed before /sso/<org>/….
RESERVED_SLUGS = frozenset({"new", "admin", "api", "sso", "scim", "accounts", "static", "settings", "invitations",
                            "link", "test-idp", "healthz", "orgs"})


def hash_secret(secret: str) -> str:
    """Secrets (tokens, passwords for databases, invitation links) are random and long,
    so a plain SHA-256 is the right hash: one indexed lookup, nothing to brute-force."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Plan(models.TextChoices):
    HOBBY = "hobby", "Hobby"
    SCALER = "scaler", "Scaler"
    SCALER_PRO = "scaler_pro", "Scaler Pro"
    ENTERPRISE = "enterprise", "Enterprise"


def sso_available_for(plan: str, sso_addon: bool) -> bool:
    """SSO is included in Enterprise and an add-on for Scaler and Scaler Pro."""
    if plan == Plan.ENTERPRISE:
        return True
    return plan in (Plan.SCALER, Plan.SCALER_PRO) and sso_addon


class Organization(TimestampedModel):
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=100)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.HOBBY)
    sso_addon = models.BooleanField(default=False, help_text="SSO add-on for Scaler and Scaler Pro plans.")

    def __str__(self) -> str:
        return self.slug

    @property
    def sso_available(self) -> bool:
        return sso_available_for(self.plan, self.sso_addon)


class Membership(TimestampedModel):
    class Role(models.TextChoices):
        ADMIN = "admin", "Organization Administrator"
        MEMBER = "member", "Organization Member"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    is_database_admin = models.BooleanField(default=False)
    # The grant came from a group rule (sso.GroupRule): leaving the group takes it away;
    # a grant made by hand stays until taken by hand.
    database_admin_by_rule = models.BooleanField(default=False, db_default=False)
    # The administrator role came from a group rule: when no rule names the member's groups
    # any more, they are a member again. A role set by hand (or by the role attribute) stays.
    role_by_rule = models.BooleanField(default=False, db_default=False)
    # Set when the membership comes from Directory Sync (SCIM); such rows are
    # not edited by hand (DS6).
    directory_managed = models.BooleanField(default=False)
    # Set when Directory Sync attached an account that existed before and was not
    # a member: its owner never agreed to join, so for the hostile-IdP guard (§7)
    # this membership is no tie until they confirm an SSO link. It stays set
    # when the directory releases the row (Directory Sync or SSO disabled).
    owner_unconfirmed = models.BooleanField(default=False)
    # The last role change. The SSO enable removes by the role at enable time
    # (E1, E2): an administrator demoted after the enable is not one it removes.
    role_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "user"], name="orgs_membership_org_user_unique")]
        indexes = [models.Index(fields=["org", "role"], name="orgs_membership_org_role")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.org_id} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class MemberCount(models.Model):
    """How many memberships the organization has, for pages that show an exact total
    without counting 100,000 rows on each request. The database keeps it, in the same
    transaction as each membership INSERT or DELETE, whatever wrote it (services,
    set-based statements, fast paths, cascades): triggers made by the migration from
    config.sql.counter_triggers. No row means 0. Checked against a COUNT after every
    test (tests/conftest.py)."""

    org = models.OneToOneField(Organization, primary_key=True, on_delete=models.CASCADE, related_name="+")
    members = models.BigIntegerField(default=0)


class Invitation(TimestampedModel):
    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        REVOKED = "revoked"

    class RevokeReason(models.TextChoices):
        REVOKED = "revoked", "Revoked by an administrator"
        EXPIRED = "expired", "Expired and replaced by a new invitation"
        SSO_ENABLED = "sso_enabled", "Single sign-on was enabled"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField()
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    revoke_reason = models.CharField(max_length=40, blank=True, choices=RevokeReason.choices)

    class Meta:
        constraints = [
            # One pending invitation per email per organization; re-send reuses it.
            models.UniqueConstraint(
                "org",
                Lower("email"),
                condition=models.Q(status="pending"),
                name="orgs_invitation_one_pending_per_email",
            )
        ]

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


class Database(TimestampedModel):
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="databases")
    name = models.CharField(max_length=64, validators=[slug_validator])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="orgs_database_org_name_unique")]

    def __str__(self) -> str:
        return self.name


class Credential(TimestampedModel):
    """A secret made by a member: shown once, stored as its SHA-256, revocable,
    and never deleted with its creator's membership (E7)."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the secret, so people can tell credentials apart.
    prefix = models.CharField(max_length=16)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        # Audit events label their target with this.
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class DatabasePassword(Credential):
    class Access(models.TextChoices):
        READ_ONLY = "read_only", "Read-only"
        READ_WRITE = "read_write", "Read/write"

    database = models.ForeignKey(Database, on_delete=models.CASCADE, related_name="passwords")
    access = models.CharField(max_length=12, choices=Access.choices, default=Access.READ_ONLY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["database", "name"], name="orgs_dbpassword_database_name_unique")
        ]


class ServiceToken(Credential):
    """Authenticates the JSON API for one organization. It acts with the role its
    creator had when it was made (`role`), and keeps working after the creator
    leaves (E7); revoking it is how access ends."""

    role = models.CharField(max_length=10, choices=Membership.Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="orgs_servicetoken_org_name_unique")]


class AuditEvent(models.Model):
    """Append-only: who did what to which object in which organization, when, from where."""

    # No index of its own: both indexes below start with the organization.
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="audit_events", db_index=False)
    # Null when the system or an identity provider acted; actor_label says which.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=254)
    event = models.CharField(max_length=64)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=254, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["org", "-created_at", "-id"], name="orgs_audit_org_time"),
            models.Index(fields=["org", "event", "-created_at"], name="orgs_audit_org_event_time"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")


class OrgEvent(models.Model):
    """The webhook outbox: one row per audit event that webhooks carry (orgs.events),
    written in the transaction of the change, beside its audit row, which holds what
    happened (actor, target, old → new). `seq` orders an organization's events for
    delivery and the events API; it is NULL until the sequencer (orgs.events.sequence)
    numbers the row, after its transaction committed: ids are taken in insert order but
    committed in any order, so a cursor on them could skip an event."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    # DO_NOTHING: audit rows go only with their organization, and so do these rows; a
    # CASCADE here would make deleting an organization fetch every audit id (and overflow
    # the parameters of one query past 65,535 events) instead of one DELETE per table.
    audit = models.OneToOneField(AuditEvent, on_delete=models.DO_NOTHING, related_name="+")
    public_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=64)
    seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "seq"], name="orgs_event_org_seq")]
        # What the sequencer looks for: small, since rows leave it once numbered.
        indexes = [models.Index(fields=["org", "id"], condition=models.Q(seq__isnull=True),
                                name="orgs_event_unsequenced")]


class OrgEventSequence(models.Model):
    """The last `OrgEvent.seq` given in an organization; its row lock serializes the sequencer."""

    org = models.OneToOneField(Organization, on_delete=models.CASCADE, primary_key=True, related_name="+")
    last_seq = models.BigIntegerField(default=0)
