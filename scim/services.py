"""Every Directory Sync state change. A person acts for the enable/disable/rotate/toggle
transitions (`actor=`); the scim_user_* and scim_group_* services are the identity
provider's, which has no account: they take no actor and write the audit label
"directory". Each service runs in one transaction and writes its audit event there.

SCIM documents are read by scim/resources.py (parse_user, apply_user_patch,
parse_group_patch); a ScimError it raises from inside a service rolls the transaction
back. Hand-written SQL for the hot paths is in scim/fastpath.py, each function the twin
of an ORM function here (`…_orm`), its specification.
"""
import hmac

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from config.errors import Conflict, NotAllowed, NotFound
from orgs import events
from orgs.audit import audit_record, register_events
from orgs.models import Membership, Organization, hash_secret, new_secret
from orgs.services import membership_add, membership_mark_directory_managed, membership_remove
from sso.models import SSORemoval
from sso.selectors import domain_verified_by, tied_to_org
from sso.services import domain_owner_takes_over, new_account_state
from teams.models import Team, TeamMember
from teams.services import team_create, team_delete, team_rename

from . import fastpath, idp, request_log, resources, selectors
from .models import (
    Directory,
    DirectoryGroup,
    DirectoryGroupMember,
    DirectoryToken,
    DirectoryUser,
)

DIRECTORY = "directory"
Role = Membership.Role


@register_events
class DirectoryEvents:
    ENABLED = "directory.enabled"
    DISABLED = "directory.disabled"
    TOKEN_ROTATED = "directory.token_rotated"
    SETTINGS_CHANGED = "directory.settings_changed"
    USER_CREATED = "directory.user_created"
    USER_UPDATED = "directory.user_updated"
    USER_DEACTIVATED = "directory.user_deactivated"
    USER_DELETED = "directory.user_deleted"
    GROUP_CREATED = "directory.group_created"
    GROUP_UPDATED = "directory.group_updated"
    GROUP_MEMBERS_CHANGED = "directory.group_members_changed"
    GROUP_DELETED = "directory.group_deleted"
    # An email change from the IdP that could not reach the account (scim.idp.follow_email).
    EMAIL_CHANGE_PENDING = idp.EMAIL_CHANGE_PENDING
    EMAIL_CHANGE_RESOLVED = idp.EMAIL_CHANGE_RESOLVED


# What webhooks and the events API carry (orgs.events): the directory's users and groups.
events.carry({
    DirectoryEvents.USER_CREATED: "Directory Sync: the identity provider created a user (`after.active`, `after.role`).",
    DirectoryEvents.USER_UPDATED: "Directory Sync: a user changed (`before`/`after`: active, user_name, role).",
    DirectoryEvents.USER_DEACTIVATED: "Directory Sync: a user was deactivated; their membership ends "
                                      "(a `member.removed` event follows).",
    DirectoryEvents.USER_DELETED: "Directory Sync: a user was deleted; their membership ends.",
    DirectoryEvents.GROUP_CREATED: "Directory Sync: a group (and its team) was created (`after.members`).",
    DirectoryEvents.GROUP_UPDATED: "Directory Sync: a group was renamed or replaced (`before`/`after`).",
    DirectoryEvents.GROUP_MEMBERS_CHANGED: "Directory Sync: users were added to or removed from a group "
                                           "(`after.added_ids`/`after.removed_ids`: the SCIM ids of the users).",
    DirectoryEvents.GROUP_DELETED: "Directory Sync: a group (and its team) was deleted.",
})


class DirectoryNotEnabled(NotAllowed):
    code = "directory_sync_disabled"


def _sso_enabled(org: Organization) -> bool:
    """DS1. The SSO app answers; without it, SSO is not enabled anywhere."""
    try:
        from sso.selectors import sso_is_enabled
    except ImportError:
        return False
    return bool(sso_is_enabled(org))


def _audit(org, event, *, actor=None, target=None, target_label="", old=None, new=None, actor_label=None):
    return audit_record(org=org, actor=actor, event=event, target=target, target_label=target_label, old=old,
                        new=new, actor_label=actor_label or (None if actor is not None else DIRECTORY))


def _locked_directory(org: Organization) -> Directory:
    Directory.objects.get_or_create(org=org)
    return Directory.objects.select_for_update().get(org=org)


def _new_token(org: Organization, actor: User | None) -> str:
    secret = new_secret("ghscim")
    DirectoryToken.objects.create(org=org, token_hash=hash_secret(secret), prefix=secret[:12], created_by=actor)
    return secret


# The directory ---------------------------------------------------------------------


@transaction.atomic
def directory_enable(*, org: Organization, actor: User | None,
                     actor_label: str | None = None) -> tuple[Directory, str]:
    """DS1, DS2, DS5: needs SSO enabled; clears every existing team; returns the
    bearer token, shown once. `actor_label` names an actor that is no account (a setup
    link, actor None) in every audit event it writes."""
    directory = _locked_directory(org)
    if directory.enabled:
        raise Conflict("Directory Sync is already enabled; rotate the token to get a new one.",
                       code="directory_sync_enabled")
    if not _sso_enabled(org):
        raise NotAllowed("Enable SSO before Directory Sync.", code="sso_not_enabled")
    teams = list(Team.objects.filter(org=org).order_by("pk"))
    for team in teams:
        team_delete(org=org, team=team, actor=actor, by_directory=True, reason="directory_sync_enabled",
                    actor_label=actor_label)
    DirectoryToken.objects.filter(org=org, revoked_at__isnull=True).update(revoked_at=timezone.now())
    secret = _new_token(org, actor)
    directory.enabled = True
    directory.enabled_at = timezone.now()
    directory.save(update_fields=["enabled", "enabled_at", "updated_at"])
    _audit(org, DirectoryEvents.ENABLED, actor=actor, target=directory, target_label="Directory Sync",
           new={"teams_cleared": len(teams)}, actor_label=actor_label)
    return directory, secret


@transaction.atomic
def directory_disable(*, org: Organization, actor: User | None, reason: str = "disabled") -> bool:
    """D2 and the dashboard's Disable: tokens stop at once; memberships and teams stay,
    released from directory management so administrators can edit them again."""
    directory = Directory.objects.select_for_update().filter(org=org).first()
    if directory is None or not directory.enabled:
        return False
    now = timezone.now()
    DirectoryToken.objects.filter(org=org, revoked_at__isnull=True).update(revoked_at=now)
    released_members = Membership.objects.filter(org=org, directory_managed=True).update(
        directory_managed=False, updated_at=now)
    released_teams = Team.objects.filter(org=org, directory_managed=True).update(directory_managed=False,
                                                                                   updated_at=now)
    # The directory's records go: a later enable starts from a clean directory.
    DirectoryGroup.objects.filter(org=org).delete()
    DirectoryUser.objects.filter(org=org).delete()
    directory.enabled = False
    directory.save(update_fields=["enabled", "updated_at"])
    _audit(org, DirectoryEvents.DISABLED, actor=actor, target=directory, target_label="Directory Sync",
           new={"reason": reason, "members_released": released_members, "teams_released": released_teams})
    return True


@transaction.atomic
def directory_rotate_token(*, org: Organization, actor: User | None) -> str:
    directory = _locked_directory(org)
    if not directory.enabled:
        raise DirectoryNotEnabled("Directory Sync is not enabled.")
    revoked = DirectoryToken.objects.filter(org=org, revoked_at__isnull=True).update(revoked_at=timezone.now())
    secret = _new_token(org, actor)
    _audit(org, DirectoryEvents.TOKEN_ROTATED, actor=actor, target=directory, target_label="Directory Sync",
           new={"revoked": revoked})
    return secret


def directory_apply_stored_roles(*, org: Organization, actor: User | None = None) -> int:
    """DS4 turned on (sso.signals.role_management_enabled, in the switch's transaction):
    each active directory user's last role applies, the last administrator kept."""
    return idp.apply_stored_roles(org=org)


def directory_retry_pending_emails(*, org: Organization, domain: str) -> None:
    """A domain verified (sso.signals.domain_verified, in its transaction): each directory
    user's email change that waits for an address in it is tried again (scim.idp.follow_email:
    it goes through, or waits with its new reason)."""
    pending = (DirectoryUser.objects.select_for_update(of=("self",)).select_related("user")
               .filter(org=org, user__isnull=False, email_change_pending__iendswith="@" + domain).order_by("pk"))
    for directory_user in pending:
        idp.follow_email(org, directory_user, directory_user.email_change_pending)
        directory_user.save(update_fields=["email_change_pending", "email_change_reason"])


def directory_token_by_hash_orm(digest: str):
    """The live token with this SHA-256 — with its organization, the organization's
    directory and its SSO connection (DS4's switch: scim.selectors.role_management) — as a
    queryset of at most one: the specification of scim.fastpath.directory_token_by_hash."""
    return (DirectoryToken.objects.select_related("org__directory", "org__sso_connection")
            .filter(token_hash=digest, revoked_at__isnull=True).order_by("pk")[:1])


def directory_authenticate(*, secret: str, org_slug: str) -> DirectoryToken | None:
    """The active token `secret` if it belongs to the organization `org_slug` and its
    directory is enabled: one indexed lookup by SHA-256, then a constant-time compare."""
    if not secret or len(secret) > 200:
        return None
    digest = hash_secret(secret)
    token = fastpath.directory_token_by_hash(digest)
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if not hmac.compare_digest(token.org.slug.encode(), (org_slug or "").encode()):
        return None
    directory = getattr(token.org, "directory", None)
    if directory is None or not directory.enabled:
        return None
    return token


def scim_request_log_record(*, org: Organization, method: str, path: str, status: int, detail: str = "") -> None:
    """Troubleshooting log of the requests a directory received (scim/request_log.py)."""
    request_log.record(org_id=org.pk, method=method, path=path, status=status, detail=detail)


# Users ---------------------------------------------------------------------------------


def _managed_role(directory: Directory, fields: resources.UserFields) -> str | None:
    """DS4: the role the IdP sent, when the organization's SSO connection lets it manage roles."""
    return idp.managed_role(directory.org, fields.role)


def _account_for(org: Organization, email: str, fields: resources.UserFields) -> tuple[User | None, bool]:
    """The account with this email, created without a usable password if there is none
    (claimed only in a domain this organization verified, E14); and whether it was
    created here (DirectoryUser.created_account). An existing account the directory may
    not attach (E14: unverified, or another organization's unclaimed account) gives None:
    the directory user then holds no account, as for a user pushed with no email.
    Provisioning mostly meets new people, so the INSERT comes first: one query then."""
    try:
        with transaction.atomic():
            return User.objects.create_user(email, None, first_name=fields.given_name[:150],
                                            last_name=fields.family_name[:150],
                                            **new_account_state(org=org, email=email)), True
    except IntegrityError:
        account = User.objects.get(email=email)
    return _attachable(org, account), False


def _attachable(org: Organization, account: User) -> User | None:
    """E14: an existing account this organization's directory may hold. In a domain the
    organization verified, it outranks any other (domain_owner_takes_over); otherwise
    the address must be verified, and an unclaimed account only by the organization it
    is tied to. An attachable account with no tie here still waits for its owner's
    agreement (Membership.owner_unconfirmed, in _activate)."""
    if domain_verified_by(org=org, email=account.email):
        return domain_owner_takes_over(org=org, user=account)
    if account.claimed:
        return account if account.email_verified_at is not None else None
    return account if tied_to_org(org=org, user=account) else None


def _reset_if_awaiting_sso_removal(org: Organization, user: User) -> bool:
    """A member the SSO enable still has to remove is removed now, through the enable's
    own path, so the directory adds a fresh membership the job leaves alone (as an SSO
    sign-in does, E3/E5/E6) instead of reusing one the job deletes later."""
    try:
        from sso.services import sso_removal_apply
    except ImportError:
        return False
    return sso_removal_apply(org=org, user=user)


def _mirror_teams(org: Organization, directory_user: DirectoryUser) -> None:
    """A (re)activated user rejoins the teams of the groups the IdP has them in."""
    group_team_ids = list(
        DirectoryGroup.objects.filter(org=org, members__directory_user=directory_user).values_list("team_id",
                                                                                                   flat=True))
    if group_team_ids and directory_user.membership_id:
        TeamMember.objects.bulk_create(
            [TeamMember(org=org, team_id=team_id, membership_id=directory_user.membership_id)
             for team_id in group_team_ids],
            ignore_conflicts=True,
        )


def _activate(org: Organization, directory: Directory, directory_user: DirectoryUser,
              fields: resources.UserFields, *, new: bool) -> None:
    if directory_user.user_id is None:
        directory_user.membership = None  # no email yet, so no account to add
        return
    role = _managed_role(directory, fields)
    user = directory_user.user
    # Did the account's owner agree to this organization: the directory created the account,
    # or it was a member already (not one the directory attached earlier)? An account the
    # directory created has only memberships made since this SSO enable (DS1): no query.
    agreed = directory_user.created_account
    if not agreed:
        unconfirmed = Membership.objects.filter(org=org, user=user).values_list("owner_unconfirmed", flat=True)
        unconfirmed = unconfirmed.first()
        # A member the SSO enable removed agreed when they joined (the removal is their tie,
        # SPEC §7): brought back by the directory, they are in the organization again (E11).
        agreed = unconfirmed is False or (
            unconfirmed is None and SSORemoval.objects.filter(org=org, user=user).exists())
        if unconfirmed is not None:
            # A member the enable still has to remove starts afresh, as at an SSO sign-in.
            _reset_if_awaiting_sso_removal(org, user)
    # Returns an existing membership unchanged, or adds one (directory-managed, audited).
    # An existing account attached without its owner's agreement is no SSO tie (SPEC §7).
    membership = membership_add(org=org, user=user, role=role or Role.MEMBER, actor=None,
                                directory_managed=True, reason="directory_provisioned", actor_label=DIRECTORY,
                                owner_unconfirmed=not agreed)
    if not membership.directory_managed:
        membership = membership_mark_directory_managed(org=org, membership=membership, actor=None,
                                                       actor_label=DIRECTORY)
    # A membership that was there keeps its role here: idp.follow_idp then applies the
    # IdP's word (the last administrator kept, audited).
    directory_user.membership = membership
    if not new:
        _mirror_teams(org, directory_user)


def _membership_id_of(org: Organization, directory_user: DirectoryUser) -> int | None:
    """The membership the directory user stands for: the one it made or was given (an SSO
    sign-in's, E16), else the account's membership however it came (E16: the directory
    decides, so deactivate and delete remove it too)."""
    if directory_user.membership_id or directory_user.user_id is None:
        return directory_user.membership_id
    return Membership.objects.filter(org=org, user_id=directory_user.user_id).values_list("pk", flat=True).first()


def _deactivate(org: Organization, directory_user: DirectoryUser, reason: str) -> None:
    membership_id = _membership_id_of(org, directory_user)
    if membership_id:
        membership = Membership(pk=membership_id, org=org)
        try:
            membership_remove(org=org, membership=membership, actor=None, by_directory=True, reason=reason,
                              actor_label=DIRECTORY)
        except Conflict as exc:
            if exc.code == "last_admin":
                raise Conflict(
                    f"{directory_user.user_name} is the organization's last administrator and cannot be "
                    "deprovisioned; make another member an administrator first.",
                    code="last_admin",
                ) from None
            raise
    directory_user.membership = None


def _user_name_taken(org, user_name, exclude_pk=None) -> bool:
    qs = DirectoryUser.objects.filter(org=org, user_name=user_name)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _uniqueness(detail):
    return Conflict(detail, code="uniqueness")


def _user_name_conflict(user_name: str) -> Conflict:
    return _uniqueness(f"A user with userName “{user_name}” already exists.")


def _new_directory_user(org: Organization, fields: resources.UserFields, account: User | None,
                        created_account: bool) -> DirectoryUser:
    return DirectoryUser(
        org=org, user=account, created_account=created_account, user_name=fields.user_name,
        external_id=fields.external_id,
        email=fields.search_email, given_name=fields.given_name, family_name=fields.family_name,
        display_name=fields.display_name, emails=fields.emails, active=fields.active, role=fields.role,
        raw=fields.raw,
    )


@transaction.atomic
def scim_user_create(*, org: Organization, directory: Directory, fields: resources.UserFields) -> DirectoryUser:
    """POST /Users. On PostgreSQL a new email (the common case) is provisioned in one
    statement (scim.fastpath.scim_user_create); an existing account, a user without an
    email, and SQLite take the ORM path, which is its specification."""
    if connection.vendor == "postgresql":
        directory_user = fastpath.scim_user_create(org=org, directory=directory, fields=fields)
        if directory_user is not None:
            return directory_user
    return scim_user_create_orm(org=org, directory=directory, fields=fields)


def scim_user_create_orm(*, org: Organization, directory: Directory, fields: resources.UserFields) -> DirectoryUser:
    """POST /Users through the ORM (inside scim_user_create's transaction). Uniqueness
    (userName, and one directory user per account) is left to the unique constraints: a
    conflict rolls everything back and answers 409."""
    account, created_account = None, False
    if fields.email:
        account, created_account = _account_for(org, fields.email, fields)
    directory_user = _new_directory_user(org, fields, account, created_account)
    if fields.active:
        _activate(org, directory, directory_user, fields, new=True)
    try:
        with transaction.atomic():
            directory_user.save(force_insert=True)
    except IntegrityError:
        if _user_name_taken(org, fields.user_name):
            raise _user_name_conflict(fields.user_name) from None
        raise _uniqueness(f"The account {fields.email} is already provisioned under another userName.") from None
    _audit(org, DirectoryEvents.USER_CREATED, target=directory_user, target_label=fields.user_name,
           new={"active": fields.active, "role": fields.role or None})
    if account is not None and not created_account:
        # An account that was there: its names and its membership's role follow the IdP.
        idp.follow_profile(org, directory_user, given_name=fields.given_name, family_name=fields.family_name)
        idp.follow_idp(org, directory_user, has_groups=False)
    return directory_user


def _locked_user(org: Organization, directory_user_id) -> DirectoryUser:
    found = (DirectoryUser.objects.select_for_update(of=("self",)).select_related("user")
             .filter(org=org, pk=directory_user_id).first())
    if found is None:
        raise NotFound("User not found.")
    return found


@transaction.atomic
def scim_user_replace(*, org: Organization, directory: Directory, directory_user_id,
                      fields: resources.UserFields) -> DirectoryUser:
    """PUT (and the end of PATCH): the resource becomes `fields`; activation and
    deactivation follow `active`."""
    directory_user = _locked_user(org, directory_user_id)
    if fields.user_name != directory_user.user_name and _user_name_taken(org, fields.user_name,
                                                                        directory_user.pk):
        raise _uniqueness(f"A user with userName “{fields.user_name}” already exists.")
    old = {"active": directory_user.active, "user_name": directory_user.user_name, "role": directory_user.role}
    was_active = directory_user.active
    if fields.email and directory_user.user_id is None:
        # The IdP sends an email for the first time: the account is found or created now.
        directory_user.user, directory_user.created_account = _account_for(org, fields.email, fields)
    elif fields.email:
        # Another address for the same person: the account's, or pending (idp.follow_email).
        idp.follow_email(org, directory_user, fields.email)
    directory_user.user_name = fields.user_name
    directory_user.external_id = fields.external_id
    directory_user.email = fields.search_email
    directory_user.given_name = fields.given_name
    directory_user.family_name = fields.family_name
    directory_user.display_name = fields.display_name
    directory_user.emails = fields.emails
    directory_user.role = fields.role
    directory_user.raw = fields.raw
    directory_user.active = fields.active
    if fields.active and (not was_active or directory_user.membership_id is None):
        _activate(org, directory, directory_user, fields, new=False)
    elif fields.active:
        _activate(org, directory, directory_user, fields, new=True)  # role and marking only
    elif was_active or directory_user.membership_id:
        _deactivate(org, directory_user, reason="directory_deprovisioned")
    try:
        with transaction.atomic():
            directory_user.save()
    except IntegrityError:
        raise _uniqueness(f"A user with userName “{fields.user_name}” already exists.") from None
    if directory_user.user_id is not None:
        idp.follow_profile(org, directory_user, given_name=fields.given_name, family_name=fields.family_name)
    idp.follow_idp(org, directory_user)
    new = {"active": directory_user.active, "user_name": directory_user.user_name, "role": directory_user.role}
    if old != new:
        event = DirectoryEvents.USER_DEACTIVATED if (old["active"] and not new["active"]) else \
            DirectoryEvents.USER_UPDATED
        _audit(org, event, target=directory_user, target_label=directory_user.user_name, old=old, new=new)
    return directory_user


@transaction.atomic
def scim_user_patch(*, org: Organization, directory: Directory, directory_user_id, operations) -> DirectoryUser:
    """PATCH under the row lock, so concurrent PATCHes apply one after the other."""
    directory_user = _locked_user(org, directory_user_id)
    role_attribute = selectors.role_management(org=org).attribute
    doc = resources.apply_user_patch(resources.user_document(directory_user), operations,
                                     role_attribute=role_attribute)
    fields = resources.parse_user(doc, role_attribute=role_attribute)
    return scim_user_replace(org=org, directory=directory, directory_user_id=directory_user.pk, fields=fields)


@transaction.atomic
def directory_user_attach_membership(*, org: Organization, user: User, membership: Membership) -> None:
    """E16: a member the directory pushed joined through an SSO sign-in (inside its
    transaction): the membership is the directory user's, managed by the directory."""
    directory_user = DirectoryUser.objects.select_for_update().filter(org=org, user=user).first()
    if directory_user is None or directory_user.membership_id == membership.pk:
        return
    directory_user.membership = membership
    directory_user.save(update_fields=["membership", "updated_at"])
    membership_mark_directory_managed(org=org, membership=membership, actor=None, actor_label=DIRECTORY)
    _mirror_teams(org, directory_user)


def directory_users_release_account(*, user: User) -> None:
    """E14: the account's owner claimed it; every directory user holding it lets it go
    (its memberships ended with the claim), audited in each organization."""
    for directory_user in DirectoryUser.objects.select_for_update().filter(user=user):
        _audit(directory_user.org, DirectoryEvents.USER_UPDATED, target=directory_user,
               target_label=directory_user.user_name, old={"account": user.email},
               new={"account": None, "reason": "account_claimed"})
        directory_user.user, directory_user.membership, directory_user.created_account = None, None, False
        directory_user.save(update_fields=["user", "membership", "created_account", "updated_at"])


@transaction.atomic
def scim_user_delete(*, org: Organization, directory_user_id) -> None:
    """DELETE: the membership goes (E8); the account and its credentials stay."""
    directory_user = _locked_user(org, directory_user_id)
    _deactivate(org, directory_user, reason="directory_deprovisioned")
    _audit(org, DirectoryEvents.USER_DELETED, target=directory_user, target_label=directory_user.user_name)
    directory_user.delete()


# Groups ----------------------------------------------------------------------------


def _resolve_members(org: Organization, ids) -> dict[int, int | None]:
    """{directory user id: membership id or None} for this organization's users among `ids`, in one query."""
    if not ids:
        return {}
    return dict(DirectoryUser.objects.filter(org=org, pk__in=list(ids)).values_list("pk", "membership_id"))


def _refuse_unknown_members(ids, found) -> None:
    """400 invalidValue naming the ids that are not this organization's users (raised
    inside the service's transaction, so whatever it wrote is rolled back)."""
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise resources.bad_request(
            f"Not users of this organization: {', '.join(sorted(missing)[:10])}.", "invalidValue")


def _require_members(org, ids) -> dict[int, int | None]:
    found = _resolve_members(org, ids)
    _refuse_unknown_members(ids, found)
    return found


def _add_members(org, group: DirectoryGroup, ids) -> set[int]:
    if connection.vendor == "postgresql":
        return fastpath.group_members_add(org, group, ids)
    return group_members_add_orm(org, group, ids)


def group_members_add_orm(org, group: DirectoryGroup, ids) -> set[int]:
    """Link this organization's directory users among `ids` to the group, and the
    memberships of those that are active to its team; return the ids that are users of
    the organization (the caller refuses the others). Set-based, whatever the number:
    no per-member statement, no COUNT of the group: the lookup, then one INSERT … ON
    CONFLICT DO NOTHING per table (per batch of the database's parameter limit)."""
    members = _resolve_members(org, ids)
    DirectoryGroupMember.objects.bulk_create(
        [DirectoryGroupMember(org=org, group=group, directory_user_id=pk) for pk in members], ignore_conflicts=True)
    TeamMember.objects.bulk_create(
        [TeamMember(org=org, team_id=group.team_id, membership_id=membership_id)
         for membership_id in members.values() if membership_id], ignore_conflicts=True)
    return set(members)


def _remove_members(org, group: DirectoryGroup, ids) -> None:
    if not ids:
        return
    ids = list(ids)
    DirectoryGroupMember.objects.filter(group=group, directory_user_id__in=ids).delete()
    TeamMember.objects.filter(
        team_id=group.team_id,
        membership_id__in=DirectoryUser.objects.filter(org=org, pk__in=ids, membership__isnull=False)
        .values("membership_id"),
    ).delete()


def _replace_members(org, group: DirectoryGroup, members: dict[int, int | None]) -> None:
    keep = list(members)
    DirectoryGroupMember.objects.filter(group=group).exclude(directory_user_id__in=keep).delete()
    keep_memberships = [m for m in members.values() if m]
    TeamMember.objects.filter(team_id=group.team_id).exclude(membership_id__in=keep_memberships).delete()
    _add_members(org, group, members)


def _group_name_taken(org, name, exclude_pk=None) -> bool:
    qs = DirectoryGroup.objects.filter(org=org, display_name__iexact=name)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _team_name_conflict(exc: Conflict, name: str) -> Conflict:
    return _uniqueness(f"A group named “{name}” already exists.") if exc.code == "name_taken" else exc


@transaction.atomic
def scim_group_create(*, org: Organization, fields: resources.GroupFields) -> DirectoryGroup:
    if _group_name_taken(org, fields.display_name):
        raise _uniqueness(f"A group named “{fields.display_name}” already exists.")
    members = _require_members(org, fields.member_ids or [])
    try:
        team = team_create(org=org, name=fields.display_name, actor=None, directory_managed=True,
                           external_id=fields.external_id, actor_label=DIRECTORY)
        with transaction.atomic():
            group = DirectoryGroup.objects.create(org=org, team=team, external_id=fields.external_id,
                                                  display_name=team.name, raw=fields.raw)
    except Conflict as exc:
        raise _team_name_conflict(exc, fields.display_name) from None
    except IntegrityError:
        raise _uniqueness(f"A group named “{fields.display_name}” already exists.") from None
    _add_members(org, group, members)
    _audit(org, DirectoryEvents.GROUP_CREATED, target=group, target_label=group.display_name,
           new={"members": len(members)})
    idp.apply_rules_to_members(org, members)  # group rules, in this transaction
    return group


def _locked_group(org: Organization, group_id) -> DirectoryGroup:
    found = DirectoryGroup.objects.select_for_update().filter(org=org, pk=group_id).first()
    if found is None:
        raise NotFound("Group not found.")
    return found


def locked_and_touched_group_orm(org: Organization, group_id) -> DirectoryGroup:
    """The group, locked, its lastModified set now (a PATCH changes it whatever it does)."""
    group = _locked_group(org, group_id)
    group.save(update_fields=["updated_at"])
    return group


def _rename(org, group: DirectoryGroup, name: str) -> None:
    """`name`: as resources.parse_group and parse_group_patch leave it (whitespace collapsed)."""
    if name == group.display_name:
        return
    if _group_name_taken(org, name, exclude_pk=group.pk):
        raise _uniqueness(f"A group named “{name}” already exists.")
    try:
        team_rename(org=org, team=Team(pk=group.team_id, org=org), name=name, actor=None, by_directory=True,
                    actor_label=DIRECTORY)
    except Conflict as exc:
        raise _team_name_conflict(exc, name) from None
    group.display_name = name


@transaction.atomic
def scim_group_replace(*, org: Organization, group_id, fields: resources.GroupFields) -> DirectoryGroup:
    group = _locked_group(org, group_id)
    members = _require_members(org, fields.member_ids or [])
    rules = idp.rules_of(org)
    members_before = idp.group_member_ids(group) if rules else set()
    old = {"display_name": group.display_name}
    _rename(org, group, fields.display_name)
    group.external_id = fields.external_id
    group.raw = fields.raw
    _replace_members(org, group, members)
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise _uniqueness(f"A group named “{fields.display_name}” already exists.") from None
    _audit(org, DirectoryEvents.GROUP_UPDATED, target=group, target_label=group.display_name, old=old,
           new={"display_name": group.display_name, "members": len(members)})
    idp.apply_rules_to_members(org, members_before | set(members), rules=rules)
    return group


@transaction.atomic
def scim_group_patch(*, org: Organization, group_id, operations) -> DirectoryGroup:
    """PATCH under the group's lock (resources.parse_group_patch reads the operations).
    Set-based: however many members a PATCH names, at most one delete per table and
    one insert per table. Adding members on PostgreSQL is four statements in all: the
    token, the group's lock and lastModified (one UPDATE), the members' lookup and
    inserts (one statement), the audit event."""
    group = fastpath.locked_and_touched_group(org, group_id)  # both databases: UPDATE … RETURNING
    patch = resources.parse_group_patch(operations)
    old = {"display_name": group.display_name}
    # Group rules: who this PATCH may change (everyone in the group when it is renamed).
    rules = idp.rules_of(org)
    affected = idp.group_member_ids(group) if rules and (
        patch.replace_members is not None
        or (patch.display_name is not None and patch.display_name != group.display_name)) else set()
    if patch.display_name is not None:
        _rename(org, group, patch.display_name)
    if patch.external_id is not None:
        group.external_id = patch.external_id
    counts = {}
    if patch.replace_members is not None:
        members = _require_members(org, patch.replace_members)
        _replace_members(org, group, members)
        counts["members"] = len(members)
        affected |= set(members)
    else:
        # Adding resolves, checks and inserts in one statement (on PostgreSQL); an
        # unknown id raises afterwards, which rolls the whole PATCH back.
        _remove_members(org, group, patch.remove_members)
        added = _add_members(org, group, patch.add_members)
        _refuse_unknown_members(patch.add_members, added)
        affected |= set(added) | set(patch.remove_members)
        # Which users, not only how many: a webhook consumer mirrors the group from this.
        if patch.add_members:
            counts["added"] = len(patch.add_members)
            counts["added_ids"] = sorted(str(pk) for pk in patch.add_members)
        if patch.remove_members:
            counts["removed"] = len(patch.remove_members)
            counts["removed_ids"] = sorted(str(pk) for pk in patch.remove_members)
    if patch.fields_changed:
        group.save(update_fields=["display_name", "external_id", "updated_at"])
    if patch.fields_changed or patch.members_changed:
        event = DirectoryEvents.GROUP_UPDATED if patch.fields_changed else DirectoryEvents.GROUP_MEMBERS_CHANGED
        _audit(org, event, target=group, target_label=group.display_name, old=old,
               new={"display_name": group.display_name, **counts})
    idp.apply_rules_to_members(org, affected, rules=rules)
    return group


@transaction.atomic
def scim_group_delete(*, org: Organization, group_id) -> None:
    group = _locked_group(org, group_id)
    rules = idp.rules_of(org)
    members_before = idp.group_member_ids(group) if rules else set()
    _audit(org, DirectoryEvents.GROUP_DELETED, target=group, target_label=group.display_name)
    team_delete(org=org, team=Team(pk=group.team_id, org=org), actor=None, by_directory=True,
                reason="directory_group_deleted", actor_label=DIRECTORY)
    idp.apply_rules_to_members(org, members_before, rules=rules)
