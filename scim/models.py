"""Directory Sync: one directory per organization, its bearer tokens, and the
users and groups an identity provider pushes over SCIM.

Directory users are kept apart from memberships: a deactivated user has no
membership but stays readable (`active: false`), which Okta and Entra read back.

Rule ids: docs/rules.md.
"""
from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from orgs.models import Membership, Organization
from teams.models import Team

class Directory(models.Model):
    org = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="directory")
    enabled = models.BooleanField(default=False)
    # DS4's switch ("Manage roles through identity provider") and the role attribute's
    # name are the SSO connection's (Settings › Authentication): scim.selectors.role_management.
    enabled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"directory of {self.org_id}"


class DirectoryToken(models.Model):
    """A SCIM bearer token, stored as its SHA-256. Rotation revokes every other token at once."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class DirectoryUser(models.Model):
    # Indexed by (org, id) below, which also serves lookups by org alone.
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    # The account, found or created by email. Null while the IdP has sent no email
    # (neither an email userName nor an `emails` value): no account, no membership yet.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    membership = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The directory created `user` (no account had this email). Only then may the
    # memberships it makes for the account tie it to the organization (§7): an
    # existing account it attaches gets Membership.owner_unconfirmed instead.
    created_account = models.BooleanField(default=False)
    external_id = models.CharField(max_length=255, blank=True, default="")
    # The SCIM userName, lowercased (userName is case-insensitive, RFC 7643 §4.1.1).
    user_name = models.CharField(max_length=254)
    # The work (or primary, or first) email, lowercased, for `emails[type eq "work"].value` filters.
    email = models.CharField(max_length=254, blank=True, default="")
    given_name = models.CharField(max_length=150, blank=True, default="")
    family_name = models.CharField(max_length=150, blank=True, default="")
    display_name = models.CharField(max_length=254, blank=True, default="")
    emails = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    role = models.CharField(max_length=10, blank=True, default="")
    # An email change the IdP sent that could not reach the account (not in a domain this
    # organization verified, or held by another account): shown to administrators until
    # resolved or replaced.
    email_change_pending = models.CharField(max_length=254, blank=True, default="")
    email_change_reason = models.CharField(max_length=255, blank=True, default="")
    # The resource as last received (password removed): attributes we keep but do not act on.
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "user_name"], name="scim_user_org_username_unique"),
            models.UniqueConstraint(fields=["org", "user"], name="scim_user_org_user_unique"),
        ]
        indexes = [
            models.Index(fields=["org", "external_id"], name="scim_user_org_extid"),
            models.Index(fields=["org", "email"], name="scim_user_org_email"),
            # Pages in id order: `WHERE org_id = … ORDER BY id OFFSET …` walks this index
            # alone (index-only), and so does the COUNT of the rows after a page.
            models.Index(fields=["org", "id"], name="scim_user_org_pk"),
        ]

    def __str__(self) -> str:
        return self.user_name


class DirectoryUserCount(models.Model):
    """How many directory users the organization has: SCIM's exact `totalResults` of an
    unfiltered list without a COUNT over the organization's index entries. Kept by the
    database in the same transaction as each INSERT or DELETE, whatever the path (the
    set-based and fast paths included): triggers from config.sql.counter_triggers,
    made by the migration. No row means 0. Checked after every test (tests/conftest.py)."""

    org = models.OneToOneField(Organization, primary_key=True, on_delete=models.CASCADE, related_name="+")
    users = models.BigIntegerField(default=0)


class DirectoryGroup(models.Model):
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="directory_group")
    external_id = models.CharField(max_length=255, blank=True, default="")
    display_name = models.CharField(max_length=100)
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("org", Lower("display_name"), name="scim_group_org_name_ci_unique"),
        ]
        indexes = [
            models.Index(fields=["org", "external_id"], name="scim_group_org_extid"),
            models.Index(fields=["org", "id"], name="scim_group_org_pk"),  # pages in id order
        ]

    def __str__(self) -> str:
        return self.display_name


class DirectoryGroupMember(models.Model):
    """The IdP's group membership, kept even while the user is deactivated; the
    team membership mirrors it for active users."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # No single-column indexes for these two: the unique constraint leads with group and
    # scim_groupmember_user covers directory_user, and every index costs each insert.
    group = models.ForeignKey(DirectoryGroup, on_delete=models.CASCADE, related_name="members", db_index=False)
    directory_user = models.ForeignKey(DirectoryUser, on_delete=models.CASCADE, related_name="group_links",
                                       db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "directory_user"], name="scim_groupmember_unique"),
        ]
        indexes = [models.Index(fields=["directory_user"], name="scim_groupmember_user")]

