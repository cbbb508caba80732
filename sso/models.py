"""SSO connection per organization, identities linking accounts to it, and the
records the enable transition and the hostile-IdP guard rely on.

Rule ids: docs/rules.md."""
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from orgs.models import Organization, TimestampedModel

EXPIRY_WARNING = timedelta(days=30)
MAX_ACTIVE_CERTIFICATES = 2
# E13: how long a session an organization's IdP made reaches that organization.
SESSION_LIFETIME_DEFAULT = timedelta(hours=24)
SESSION_LIFETIME_MIN = timedelta(hours=1)
SESSION_LIFETIME_MAX = timedelta(days=30)


class AttributePreset(models.TextChoices):
    """Where common IdPs put the email and names (attribute names, case-sensitive)."""

    OKTA = "okta", "Okta"
    ENTRA = "entra", "Microsoft Entra ID (Azure AD)"
    GOOGLE = "google", "Google Workspace"
    SIMPLESAMLPHP = "simplesamlphp", "SimpleSAMLphp"
    CUSTOM = "custom", "Custom"


DEFAULT_ROLE_ATTRIBUTE = "planetscale_role"
DEFAULT_GROUPS_ATTRIBUTE = "groups"
# Entra ID sends app roles in this claim (the "roles" claim of its SAML token).
ENTRA_ROLES_CLAIM = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
# Entra ID's groups claim: group object IDs, or names when the app is set to send them.
ENTRA_GROUPS_CLAIM = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"

PRESET_ATTRIBUTES: dict[str, dict[str, str]] = {
    AttributePreset.OKTA: {"email": "email", "first_name": "firstName", "last_name": "lastName"},
    AttributePreset.ENTRA: {
        "email": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "first_name": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
        "last_name": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    },
    AttributePreset.GOOGLE: {"email": "email", "first_name": "first_name", "last_name": "last_name"},
    AttributePreset.SIMPLESAMLPHP: {"email": "mail", "first_name": "givenName", "last_name": "sn"},
}


class SSOConnection(TimestampedModel):
    class State(models.TextChoices):
        CONFIGURED = "configured", "Configured"
        ENABLED = "enabled", "Enabled"

    class RemovalStatus(models.TextChoices):
        IDLE = "idle", "Not started"
        RUNNING = "running", "Removing members"
        DONE = "done", "Done"

    org = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="sso_connection")
    idp_entity_id = models.CharField(max_length=1024)
    idp_sso_url = models.URLField(max_length=1024)
    idp_slo_url = models.URLField(max_length=1024, blank=True)
    attribute_preset = models.CharField(max_length=20, choices=AttributePreset.choices, default=AttributePreset.OKTA)
    email_attribute = models.CharField(max_length=255, default="email")
    first_name_attribute = models.CharField(max_length=255, default="firstName")
    last_name_attribute = models.CharField(max_length=255, default="lastName")
    # Okta dashboard tiles post unsolicited responses; accepted only when this is on.
    allow_idp_initiated = models.BooleanField(default=False)
    # E15: the attribute whose value is the IdP's persistent subject, bound at the first
    # sign-in (e.g. Entra's object ID claim). Empty: the NameID, which must then not be
    # transient.
    subject_attribute = models.CharField(max_length=255, blank=True)
    # E13: a session this IdP made reaches the organization this long (capped by the
    # assertion's SessionNotOnOrAfter), then the next request goes through the IdP again.
    session_lifetime = models.DurationField(default=SESSION_LIFETIME_DEFAULT)
    # DS4: "Manage roles through identity provider". On, the organization role follows
    # `role_attribute` (values member/admin) on every SAML sign-in and SCIM change.
    manage_roles_via_idp = models.BooleanField(default=False)
    role_attribute = models.CharField(max_length=64, default=DEFAULT_ROLE_ATTRIBUTE)
    # The SAML attribute that lists the user's groups (group rules, for organizations
    # without Directory Sync).
    groups_attribute = models.CharField(max_length=255, default=DEFAULT_GROUPS_ATTRIBUTE)
    state = models.CharField(max_length=12, choices=State.choices, default=State.CONFIGURED)
    enabled_at = models.DateTimeField(null=True, blank=True)
    enabled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    # Progress of the job that removes non-admin members after enabling (E1).
    removal_status = models.CharField(max_length=10, choices=RemovalStatus.choices, default=RemovalStatus.IDLE)
    removal_total = models.PositiveIntegerField(default=0)
    removal_done = models.PositiveIntegerField(default=0)
    removal_finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"SSO connection of {self.org_id}"

    @property
    def is_enabled(self) -> bool:
        return self.state == self.State.ENABLED

    @property
    def removal_percent(self) -> int:
        if not self.removal_total:
            return 100
        return min(100, (self.removal_done * 100) // self.removal_total)


class SSOCertificate(TimestampedModel):
    """An IdP signing certificate (full PEM; never a fingerprint). Two may be
    active at once while the IdP rotates its key."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(SSOConnection, on_delete=models.CASCADE, related_name="certificates")
    pem = models.TextField()
    sha256_fingerprint = models.CharField(max_length=95)
    subject = models.CharField(max_length=500, blank=True)
    not_after = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "sha256_fingerprint"], name="sso_certificate_unique")
        ]
        ordering = ["created_at", "pk"]

    @property
    def is_expired(self) -> bool:
        return self.not_after <= timezone.now()

    @property
    def expires_soon(self) -> bool:
        return not self.is_expired and self.not_after - timezone.now() <= EXPIRY_WARNING


class SSOIdentity(TimestampedModel):
    """Links an account to its one SSO organization (E9: unique on user)."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sso_identities")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identity")
    # The IdP's subject this account is bound to in `org` (E15): the NameID, or the
    # connection's subject attribute. Another subject naming the account is refused
    # until an administrator unlinks this one.
    name_id = models.CharField(max_length=512)
    name_id_format = models.CharField(max_length=256, blank=True)
    # Set at the first login through the IdP; from then on, while the
    # organization enforces SSO, password sign-in is refused (E2).
    first_sso_login_at = models.DateTimeField(null=True, blank=True)
    last_sso_login_at = models.DateTimeField(null=True, blank=True)
    # What the IdP sent at the last sign-in (attribute name -> list of text values), shown
    # on the member's page so an administrator can see why a role or grant is what it is;
    # the groups named in it are what group rules read for organizations without Directory Sync.
    idp_attributes = models.JSONField(default=dict, blank=True)
    idp_groups = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org", "name_id"], name="sso_identity_org_nameid")]

    def __str__(self) -> str:
        return f"{self.user_id} via {self.org_id}"


class SSORemoval(models.Model):
    """A member an SSO enable removed. It ties that account to the organization for
    the hostile-IdP guard and /sso/, and is the outbox of the removal email
    (notified_at null: not sent yet; a worker that dies before sending leaves it
    for the next one)."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "user"], name="sso_removal_org_user_unique")]
        indexes = [
            models.Index(fields=["org", "removed_at", "id"], name="sso_removal_pending"),
            models.Index(fields=["org", "id"], name="sso_removal_unnotified", condition=models.Q(notified_at__isnull=True)),
        ]


class VerifiedDomain(TimestampedModel):
    """An email domain an organization proved it controls with a DNS TXT record."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sso_domains")
    domain = models.CharField(max_length=253)
    txt_token = models.CharField(max_length=64)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "domain"], name="sso_domain_org_domain_unique"),
            # E14: a domain is verified by at most one organization.
            models.UniqueConstraint(fields=["domain"], condition=models.Q(verified_at__isnull=False),
                                    name="sso_domain_verified_once"),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def txt_record(self) -> str:
        return f"gatehouse-verification={self.txt_token}"


class PendingLink(models.Model):
    """An IdP named an existing account with no tie to the organization: its
    owner confirms the link from an emailed one-time link (§7)."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    name_id = models.CharField(max_length=512)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class SSOSession(models.Model):
    """A Gatehouse session that this organization's IdP made (E12, single logout):
    the index that lets an IdP's LogoutRequest find and end the sessions of one
    user. Written once per IdP sign-in; no ordinary request reads it (the session
    itself carries what the access check needs)."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40)
    name_id = models.CharField(max_length=512)
    session_index = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["org", "name_id"], name="sso_session_org_nameid"),
            models.Index(fields=["session_key"], name="sso_session_key"),
            # The sweep of a user's expired rows at each IdP sign-in (sso.sessions.bind).
            models.Index(fields=["user", "expires_at"], name="sso_session_user_expiry"),
        ]


class SPKey(TimestampedModel):
    """The service provider's own signing key for one organization's connection: it
    signs LogoutRequests and LogoutResponses (single logout) and its certificate is in
    the SP metadata. Made on first need; kept apart from SSOConnection so the ACS's hot
    query does not carry it."""

    org = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="+")
    private_key_pem = models.TextField()
    certificate_pem = models.TextField()
    not_after = models.DateTimeField()


class UsedMessageID(models.Model):
    """An assertion or single-logout message ID an organization accepted (sso.state), kept
    until it could no longer be accepted (§7: every assertion ID accepted once). In
    PostgreSQL, not the cache: a Redis restart, flush or eviction forgets none. The ID is
    stored hashed with its kind; expired rows are pruned in batches."""

    # Indexed by the unique constraint, which leads with it.
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    id_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "id_hash"], name="sso_message_id_used_once")]


class GroupRule(TimestampedModel):
    """An IdP group (a SCIM group's display name, or a value of the SAML groups attribute,
    matched without regard to case) and what its members get here: an organization role,
    the Database Administrator grant, a team. Several groups may speak for one member:
    admin beats member, a grant from any rule grants."""

    class Role(models.TextChoices):
        NONE = "", "No change"
        MEMBER = "member", "Member"
        ADMIN = "admin", "Administrator"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    group_name = models.CharField(max_length=255)
    role = models.CharField(max_length=10, choices=Role.choices, blank=True, default=Role.NONE)
    database_admin = models.BooleanField(default=False)
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(models.F("org"), Lower("group_name"), name="sso_grouprule_org_group_unique"),
        ]
        ordering = ["group_name", "pk"]

    def __str__(self) -> str:
        return f"rule {self.group_name} of {self.org_id}"
